// placeholder: filled in by the issue 9 work
export async function linksCommand(_args: string[]): Promise<number> {
  console.error('not implemented yet')
  return 70
}
