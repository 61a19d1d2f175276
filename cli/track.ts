// placeholder: filled in by the issue 9 work
export async function trackCommand(_args: string[]): Promise<number> {
  console.error('not implemented yet')
  return 70
}
