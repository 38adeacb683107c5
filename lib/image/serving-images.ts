import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import * as k8s from '../../imports/k8s';
import { DEFAULT_SERVING_IMAGE, type FleetConfig, type ModelConfig } from '../fleet';
import { imageRef } from '../private/image-ref';
import { objectStorageEgressRule } from '../private/pod-hardening';
import { formatFieldPath, locateInYaml } from '../private/yaml-problems';
import { type MergedRequirement, type PinnedRequirement, type RequirementProblem, mergeRequirements, parseRequirements } from './requirements';

/** A requirements file is a short list; anything larger is the wrong file. */
const MAX_REQUIREMENTS_BYTES = 64 * 1024;
/** Where `model-serving image` writes each image's files, relative to the fleet file's folder. */
export const SERVING_IMAGES_DIR = 'images';

/** A handler file baked into an image. */
export interface ImageHandler {
  readonly model: string;
  /** The file, relative to the fleet file's folder (the build context), with "/" separators. */
  readonly source: string;
}

/** One serving image of the fleet, with everything its Dockerfile needs. */
export interface ServingImage {
  /** The key in `servingImages`; also its folder, `images/<name>/`. */
  readonly name: string;
  /** What the pods run: `repository[:tag][@digest]`. */
  readonly ref: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  /** The TorchServe image it is built FROM (the fleet's `image`), pinned. */
  readonly base: string;
  /** The TorchServe names of the models that run it, in fleet order. */
  readonly models: readonly string[];
  /** Their pinned requirements, merged and sorted by normalized name. */
  readonly requirements: readonly MergedRequirement[];
  /** Their handler files, in fleet order. */
  readonly handlers: readonly ImageHandler[];
  /** The Dockerfile, relative to the fleet file's folder. */
  readonly dockerfile: string;
  /** The merged requirements file, relative to the fleet file's folder; undefined without requirements. */
  readonly requirementsFile?: string;
}

/** A problem found while defining the images, located in the fleet file or a requirements file. */
export interface ServingImageProblem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** The images cannot be defined. The message lists every problem, each with its file and line. */
export class ServingImageError extends Error {
  constructor(public readonly problems: readonly ServingImageProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${p.file}${p.line !== undefined ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : ''}: ${p.message}`);
    super(`the serving images cannot be defined (${count}):\n${lines.join('\n')}`);
    this.name = 'ServingImageError';
  }
}

/**
 * The image a model's pods run: its serving image when the fleet defines `servingImages`, else
 * the TorchServe image itself. Either way pinned by tag or digest, as the fleet file gives it.
 */
export function servingImageOf(fleet: FleetConfig, model: ModelConfig): { readonly name?: string; readonly ref: string } {
  const name = imageNameOf(fleet, model);
  // The schema guarantees the name is in servingImages.
  return name === undefined ? { ref: imageRef(fleet.image) } : { name, ref: imageRef(fleet.servingImages![name]) };
}

function imageNameOf(fleet: FleetConfig, model: ModelConfig): string | undefined {
  return fleet.servingImages === undefined ? undefined : model.image ?? DEFAULT_SERVING_IMAGE;
}

/** Whether the fleet's `handler` is a Python file of the repository, rather than a built-in handler's name. */
export function isHandlerFile(handler: string): boolean {
  return handler.endsWith('.py');
}

/** Options of {@link defineServingImages}. */
export interface DefineServingImagesOptions {
  readonly fleet: FleetConfig;
  /** The fleet file as the user named it; requirement and handler paths are relative to its folder. */
  readonly fleetFile: string;
  /** The fleet file's text, to locate fields by line. @default - read from fleetFile */
  readonly fleetText?: string;
}

/**
 * Reads every model's requirements and handler file and defines the fleet's serving images. All
 * problems are collected, then thrown together as one {@link ServingImageError}; nothing is
 * written here.
 */
export function defineServingImages(options: DefineServingImagesOptions): ServingImage[] {
  const { fleet, fleetFile } = options;
  const dir = path.dirname(fleetFile);
  const shown = (relative: string) => path.join(dir, relative);
  const problems: ServingImageProblem[] = [];
  let located: ((where: (string | number)[]) => { line?: number; column?: number }) | undefined;
  const at = (where: (string | number)[], message: string) => {
    if (located === undefined) {
      const lineCounter = new LineCounter();
      const doc = parseDocument(options.fleetText ?? fs.readFileSync(fleetFile, 'utf-8'), { lineCounter });
      located = (w) => locateInYaml(doc, lineCounter, w);
    }
    problems.push({ file: fleetFile, ...located(where), message: `${formatFieldPath(where)}: ${message}` });
  };

  const parsed = new Map<string, PinnedRequirement[]>();
  fleet.models.forEach((model, index) => {
    if (model.requirements !== undefined) {
      const text = readSmallFile(shown(model.requirements), MAX_REQUIREMENTS_BYTES);
      if (typeof text !== 'string') {
        at(['models', index, 'requirements'], `got "${model.requirements}"; ${text.problem}`);
      } else {
        // Paths relative to the fleet file's folder: they go into generated, committed files.
        const result = parseRequirements(text, model.requirements);
        problems.push(...result.problems.map((p) => toImageProblem(p, dir)));
        parsed.set(model.name, result.requirements);
      }
    }
    if (imageNameOf(fleet, model) !== undefined && isHandlerFile(model.handler)) {
      const inside = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(model.handler);
      const stat = inside ? statOrUndefined(shown(model.handler)) : undefined;
      if (!inside) at(['models', index, 'handler'], `got "${model.handler}"; a handler file is copied into the serving image, so it must be a relative path inside the fleet file's folder (the build context)`);
      else if (!stat?.isFile()) at(['models', index, 'handler'], `got "${model.handler}"; no such file beside ${fleetFile}. The serving image copies the handler file: commit it there, or name a built-in handler`);
    }
  });

  const images: ServingImage[] = [];
  for (const [name, image] of Object.entries(fleet.servingImages ?? {})) {
    const models = fleet.models.filter((m) => imageNameOf(fleet, m) === name);
    // Models that install at load get their requirements from the .mar, not from the image.
    const merged = mergeRequirements(name, models.filter((m) => m.installAtLoad === undefined).map((m) => ({ model: m.name, requirements: parsed.get(m.name) ?? [] })));
    problems.push(...merged.problems.map((p) => toImageProblem(p, dir)));
    const folder = `${SERVING_IMAGES_DIR}/${name}`;
    images.push({
      name,
      ref: imageRef(image),
      repository: image.repository,
      tag: image.tag,
      digest: image.digest,
      base: imageRef(fleet.image),
      models: models.map((m) => m.name),
      requirements: merged.requirements,
      handlers: models.filter((m) => isHandlerFile(m.handler)).map((m) => ({ model: m.name, source: m.handler })),
      dockerfile: `${folder}/Dockerfile`,
      requirementsFile: merged.requirements.length > 0 ? `${folder}/requirements.txt` : undefined,
    });
  }
  if (problems.length > 0) throw new ServingImageError(problems);
  return images;
}

function toImageProblem(problem: RequirementProblem, dir: string): ServingImageProblem {
  return { file: path.join(dir, problem.file), line: problem.line, message: problem.message };
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

function readSmallFile(file: string, maxBytes: number): string | { problem: string } {
  const stat = statOrUndefined(file);
  if (stat === undefined) return { problem: `no such file (looked for ${file}); paths are relative to the fleet file` };
  if (!stat.isFile()) return { problem: `${file} is not a file` };
  if (stat.size > maxBytes) return { problem: `${file} is ${stat.size} bytes; a requirements file may be at most ${maxBytes} bytes` };
  return fs.readFileSync(file, 'utf-8');
}

/**
 * The egress a model's pods need to pip-install at load (`installAtLoad`): the index's address
 * ranges on the index URL's port.
 */
export function packageIndexEgressRule(indexUrl: string, cidrs: readonly string[]): k8s.NetworkPolicyEgressRule {
  const url = new URL(indexUrl);
  const port = url.port === '' ? 443 : Number(url.port);
  // The object-storage rule's address handling (never the instance metadata address), on this port.
  return { ...objectStorageEgressRule(cidrs), ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }] };
}
