// A rename or link is durable only once its directory is synced (fsync(2) on the directory):
// every file the overlay code moves into place goes through here.
import fsp from 'node:fs/promises';

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fsp.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
