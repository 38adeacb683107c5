import fs from 'node:fs';
import path from 'node:path';

// One folder replaced by another as a whole, for the synthesized output and the packaging Job
// folders alike: built in a sibling staging folder, swapped in only when complete, and repaired
// on the next run if a process died between the two renames of a swap.

function siblingPath(folder: string, suffix: string): string {
  return path.join(path.dirname(folder), `.${path.basename(folder)}.${suffix}`);
}

/** This process's staging folder for `folder`, a hidden sibling that {@link recoverInterruptedSwap} knows. */
export function stagingFolder(folder: string): string {
  return siblingPath(folder, `staging-${process.pid}`);
}

/**
 * Replaces `outdir` with `staging`. A directory cannot be replaced in one rename, so the old
 * tree is first moved aside; if the process dies between the two renames,
 * {@link recoverInterruptedSwap} puts it back on the next run.
 */
export function swapInto(staging: string, outdir: string): void {
  const previous = siblingPath(outdir, 'previous');
  fs.rmSync(previous, { recursive: true, force: true });
  const hadPrevious = fs.existsSync(outdir);
  if (hadPrevious) fs.renameSync(outdir, previous);
  fs.renameSync(staging, outdir);
  if (hadPrevious) fs.rmSync(previous, { recursive: true, force: true });
}

/**
 * Repairs what a killed synth left behind: puts the previous tree back if the process died
 * between moving it aside and swapping in the new one, and removes staging folders of dead runs.
 * Every writer calls it before it writes; the app also calls it before reading its input, so
 * even a run that then fails leaves a usable output folder.
 */
export function recoverInterruptedSwap(outdir: string): void {
  const previous = siblingPath(outdir, 'previous');
  if (!fs.existsSync(outdir) && fs.existsSync(previous)) {
    fs.renameSync(previous, outdir);
  }
  // A run killed mid-synth leaves its staging folder behind; remove those of dead processes.
  const prefix = `.${path.basename(outdir)}.staging-`;
  const parent = path.dirname(outdir);
  for (const entry of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) {
      fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
