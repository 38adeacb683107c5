import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { DEFAULT_SERVING_IMAGE, loadFleet } from '../../lib/fleet';
import { IMAGE_DIGEST_PATTERN, SERVING_IMAGES_DIR, ServingImageError, type ServingImageFilesPlan, imageRef, planServingImageFiles } from '../../lib/image';
import { writeFileAtomic } from '../../lib/registry';
import { type ServingRepository, editYamlText } from '../../lib/repository';
import { CliError, refusing } from '../cli-error';
import { openRepository, outputOption, registryOption } from '../options';
import { printSummary } from '../summary';

/** An ECR repository: the workflow logs in to the account's registry and pushes there. */
const ECR_REPOSITORY = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/;

/**
 * `model-serving image`: the serving images' Dockerfiles from the fleet file (write, check),
 * what the workflow builds (list), and recording a pushed image's digest (pin).
 */
export function registerImage(program: Command): void {
  const image = program
    .command('image')
    .description('define the serving images (the TorchServe image plus the models\' pinned requirements and handlers), list them, pin their digests')
    .addHelpText('after', `
Files, beside the fleet file (the build context):
  ${SERVING_IMAGES_DIR}/<name>/Dockerfile        one per servingImages entry, FROM the pinned TorchServe image
  ${SERVING_IMAGES_DIR}/<name>/requirements.txt  the pinned requirements of the models that run it, merged
  .dockerignore                   sends only the files the Dockerfiles copy

Release flow: change a requirement -> model-serving image -> commit -> the workflow builds, scans
(Trivy) and pushes -> model-serving image pin <name> --digest sha256:... -> npm run synth -> deploy.`);

  image
    .command('write', { isDefault: true })
    .description('write the Dockerfile of every serving image, the merged requirements and .dockerignore (the default)')
    .option('--check', 'write nothing; exit 1 when a file is missing or differs from what the fleet file gives', false)
    .action((options: { check: boolean }, command: Command) => {
      const config = openRepository(command).paths.fleetFile;
      writeImages(config, options.check);
    });

  image
    .command('list')
    .description('list the serving images: name, reference, Dockerfile, build context and models')
    .option('--json', 'one line of JSON, for CI (the workflow\'s build matrix)', false)
    .action((options: { json: boolean }, command: Command) => {
      const config = openRepository(command).paths.fleetFile;
      listImages(config, options.json);
    });

  image
    .command('pin')
    .description('record a pushed image\'s digest in the fleet file, changing only that value')
    .argument('[name]', 'the servingImages entry (default: the only one)')
    .addOption(new Option('--digest <sha256:hex>', 'the digest the registry reports for the pushed image').makeOptionMandatory())
    .option('--base', 'pin the TorchServe image (image.digest) that the serving images are built from, instead', false)
    .addOption(registryOption())
    .addOption(outputOption())
    .action((name: string | undefined, options: { digest: string; base: boolean }, command: Command) => {
      pinDigest(openRepository(command), name, options);
    });
}

function writeImages(config: string, check: boolean): void {
  const fleet = loadFleet(config);
  let plan: ServingImageFilesPlan;
  try {
    plan = planServingImageFiles(fleet, config);
  } catch (error) {
    if (error instanceof ServingImageError) throw new CliError(`${error.message}\nNothing was written.`);
    throw error;
  }
  const { files, changed, stale, foreign } = plan;
  const summary = plan.images.map((i) => `image "${i.name}" (${i.ref}): ${i.models.join(', ')}; ${i.requirements.length} requirement${i.requirements.length === 1 ? '' : 's'}, ${i.handlers.length} handler file${i.handlers.length === 1 ? '' : 's'}`);
  const dir = path.dirname(config);
  const shown = (relative: string) => path.join(dir, relative);

  // Never overwrite a file a person wrote.
  if (foreign.length > 0) {
    throw new CliError(`${foreign.map((f) => shown(f.path)).join(', ')} exist${foreign.length === 1 ? 's' : ''} and ${foreign.length === 1 ? 'was' : 'were'} not written by "model-serving image"; move ${foreign.length === 1 ? 'it' : 'them'} away (the serving images need ${foreign.length === 1 ? 'that path' : 'those paths'}). Nothing was written.`);
  }
  if (check) {
    if (changed.length === 0 && stale.length === 0) {
      console.error(`model-serving: the serving image files are up to date with ${config}${files.length === 0 ? ' (it defines no servingImages)' : ''}`);
      return;
    }
    const lines = [
      ...changed.map((f) => `  ${shown(f.path)}: ${fs.existsSync(shown(f.path)) ? 'differs from' : 'missing; expected from'} ${config}`),
      ...stale.map((p) => `  ${shown(p)}: no longer defined by ${config}`),
    ];
    throw new CliError(`the serving image files are stale:\n${lines.join('\n')}\nRun "model-serving image" and commit the result.`);
  }

  for (const file of changed) {
    fs.mkdirSync(path.dirname(shown(file.path)), { recursive: true });
    writeFileAtomic(shown(file.path), file.content);
  }
  for (const relative of stale) {
    fs.rmSync(shown(relative));
    const folder = path.dirname(shown(relative));
    if (relative.startsWith(`${SERVING_IMAGES_DIR}/`) && fs.readdirSync(folder).length === 0) fs.rmdirSync(folder);
  }
  if (files.length === 0) {
    console.error(`model-serving: ${config} defines no servingImages, so the models run ${imageRef(fleet.image)} as it is${stale.length > 0 ? `; removed ${stale.map(shown).join(', ')}` : ''}`);
    return;
  }
  const written = changed.length === 0 ? 'nothing changed' : `wrote ${changed.map((f) => shown(f.path)).join(', ')}`;
  console.error([
    `model-serving: ${written}${stale.length > 0 ? `; removed ${stale.map(shown).join(', ')}` : ''}`,
    ...summary.map((s) => `  ${s}`),
    `Build one from ${dir === '.' ? 'this folder' : dir}: docker build -f ${SERVING_IMAGES_DIR}/<name>/Dockerfile .`,
  ].join('\n'));
}

function listImages(config: string, json: boolean): void {
  const fleet = loadFleet(config);
  const dir = path.dirname(config);
  const context = path.relative(process.cwd(), path.resolve(dir)) || '.';
  const rows = Object.entries(fleet.servingImages ?? {}).map(([name, image]) => {
    const ecr = ECR_REPOSITORY.exec(image.repository);
    return {
      name,
      repository: image.repository,
      tag: image.tag ?? '',
      digest: image.digest ?? '',
      ref: imageRef(image),
      base: imageRef(fleet.image),
      dockerfile: path.join(context, SERVING_IMAGES_DIR, name, 'Dockerfile'),
      context,
      models: fleet.models.filter((m) => (m.image ?? DEFAULT_SERVING_IMAGE) === name).map((m) => m.name),
      ecr: ecr ? { account: ecr[1], region: ecr[2], repository: ecr[3] } : null,
    };
  });
  if (json) {
    console.log(JSON.stringify(rows));
    return;
  }
  if (rows.length === 0) {
    console.error(`model-serving: ${config} defines no servingImages; the models run ${imageRef(fleet.image)}`);
    return;
  }
  for (const r of rows) console.log(`${r.name}\t${r.ref}\t${r.dockerfile}\t${r.models.join(',')}`);
}

function pinDigest(repository: ServingRepository, name: string | undefined, options: { digest: string; base: boolean }): void {
  const nothing = 'Nothing was changed.';
  const config = repository.display(repository.paths.fleetFile);
  if (!IMAGE_DIGEST_PATTERN.test(options.digest)) {
    throw new CliError(`--digest "${options.digest}" must be "sha256:" followed by 64 lowercase hex digits, as the push reports it. ${nothing}`);
  }
  const source = refusing(() => repository.loadFleet(), nothing);
  const fleet = source.config;
  let where: string[];
  if (options.base) {
    if (name !== undefined) throw new CliError(`--base pins image.digest, the TorchServe image; drop "${name}". ${nothing}`);
    where = ['image', 'digest'];
  } else {
    const names = Object.keys(fleet.servingImages ?? {});
    if (names.length === 0) throw new CliError(`${config} defines no servingImages; add one, or pin the TorchServe image with --base. ${nothing}`);
    const chosen = name ?? (names.length === 1 ? names[0] : undefined);
    if (chosen === undefined) throw new CliError(`${config} defines several serving images (${names.join(', ')}); name the one to pin. ${nothing}`);
    if (!names.includes(chosen)) throw new CliError(`unknown serving image "${chosen}"; ${config} defines: ${names.join(', ')}. ${nothing}`);
    where = ['servingImages', chosen, 'digest'];
  }
  // Only that value changes in the reviewed file; the output is synthesized again with it, so
  // nothing is left stale between the pin and the deploy.
  const plan = refusing(() => repository.plan({ fleetText: editYamlText(source.text, [{ path: where, value: options.digest }]) }), nothing);
  const before = where.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], fleet);
  plan.apply();
  console.error(`model-serving: ${where.join('.')}: ${before === undefined ? 'set to' : before === options.digest ? 'already' : `${String(before)} ->`} ${options.digest} in ${config}`);
  if (options.base) writeImages(repository.paths.fleetFile, false);
  printSummary(repository, plan, {
    headline: `${options.base ? 'The serving images\' Dockerfiles were written again (they build FROM it); ' : ''}${repository.display(repository.paths.outdir)}/ runs the new digest. Review the diff, commit, then deploy.`,
    head: `${where.join('.')} ${options.digest.slice(0, 19)}...`,
  });
}
