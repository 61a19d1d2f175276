// gateway-spool's settings (quarantine folder, tag subject prefix, free-space reserve), shared with
// the `gateway quarantine` command so both find the same folder.

import path from 'node:path'

import { readIni } from '../config/ini'
import { field, validate, type Infer } from '../config/schema'

export const spoolSchema = {
  quarantine: {
    /** Folder for quarantined messages, relative to the instance folder. */
    dir: field.string({ default: 'quarantine' }),
  },
  tag: {
    /** Prefix added to the Subject of mail a check tagged (e.g. "[SPAM]"); empty for none. */
    subject_prefix: field.string({ default: '' }),
  },
  queue: {
    /** Free space (MiB) kept on the queue's and quarantine's file system; below it (plus room for the message) mail gets 452 4.3.1. */
    min_free_mb: field.int({ default: 100, min: 0, max: 1_000_000_000 }),
  },
}

/** gateway-spool.ini of the instance in `instanceDir`, validated. */
export function spoolSettings(instanceDir: string): Infer<typeof spoolSchema> {
  const file = path.join(instanceDir, 'config', 'gateway-spool.ini')
  return validate(readIni(file), file, spoolSchema)
}

/** The quarantine folder of the instance in `instanceDir`. */
export function quarantineDir(instanceDir: string): string {
  return path.resolve(instanceDir, spoolSettings(instanceDir).quarantine.dir)
}
