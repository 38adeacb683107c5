import fs from 'node:fs';
import path from 'node:path';
import type { FleetConfig } from '../fleet';
import { GENERATED_MARKER, type ServingImageFile, renderServingImageFiles } from './dockerfile';
import { SERVING_IMAGES_DIR, type ServingImage, defineServingImages } from './serving-images';

/** How the image files beside a fleet file compare with what the fleet defines. */
export interface ServingImageFilesPlan {
  readonly images: readonly ServingImage[];
  /** Every file the fleet defines. */
  readonly files: readonly ServingImageFile[];
  /** Files to write: missing, or different from what an earlier run wrote. */
  readonly changed: readonly ServingImageFile[];
  /** Files an earlier run wrote that the fleet no longer defines (relative paths). */
  readonly stale: readonly string[];
  /** Files to write whose path holds a file a person wrote: never overwritten. */
  readonly foreign: readonly ServingImageFile[];
  /** Whether every file on disk is what the fleet defines. */
  readonly fresh: boolean;
}

/**
 * The serving images' files (Dockerfiles, merged requirements, .dockerignore) the fleet defines,
 * against those beside the fleet file. Only files that start with the generated marker count as
 * written by `model-serving image`; others are never replaced. Throws `ServingImageError`.
 */
export function planServingImageFiles(fleet: FleetConfig, fleetFile: string): ServingImageFilesPlan {
  const images = defineServingImages({ fleet, fleetFile });
  const files = renderServingImageFiles(images, path.basename(fleetFile));
  const dir = path.dirname(fleetFile);
  const previous = generatedOnDisk(dir);
  const changed = files.filter((f) => previous.get(f.path) !== f.content);
  const stale = [...previous.keys()].filter((p) => !files.some((f) => f.path === p));
  const foreign = changed.filter((f) => !previous.has(f.path) && fs.existsSync(path.join(dir, f.path)));
  return { images, files, changed, stale, foreign, fresh: changed.length === 0 && stale.length === 0 };
}

/** The files on disk that an earlier run wrote (they start with the generated marker). */
function generatedOnDisk(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const consider = (relative: string) => {
    try {
      const content = fs.readFileSync(path.join(dir, relative), 'utf-8');
      if (content.startsWith(GENERATED_MARKER)) found.set(relative, content);
    } catch {
      // Absent or unreadable: not ours.
    }
  };
  consider('.dockerignore');
  const imagesDir = path.join(dir, SERVING_IMAGES_DIR);
  const folders = fs.existsSync(imagesDir) ? fs.readdirSync(imagesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort() : [];
  for (const folder of folders) {
    for (const name of ['Dockerfile', 'requirements.txt']) consider(`${SERVING_IMAGES_DIR}/${folder}/${name}`);
  }
  return found;
}
