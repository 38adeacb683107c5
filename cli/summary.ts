import type { FleetConfig } from '../lib/fleet';
import type { PlannedChange, ServingRepository } from '../lib/repository';
import { renderDiffMarkdown } from '../lib/review';
import { CliError } from './cli-error';

/** The model a command is about: the one named, or the fleet's only model. */
export function selectModel(fleet: FleetConfig, requested: string | undefined): string {
  const models = fleet.models.map((m) => m.name);
  const model = requested ?? (models.length === 1 ? models[0] : undefined);
  if (model === undefined) throw new CliError(`the fleet has several models (${models.join(', ')}); choose one with --model. Nothing was changed.`);
  if (!models.includes(model)) throw new CliError(`--model "${model}" is not a model of the fleet; it defines: ${models.join(', ')}. Nothing was changed.`);
  return model;
}

/** The files a change wrote and the Markdown of every object it changes, in every output folder. */
export function printSummary(repository: ServingRepository, plan: PlannedChange, labels: { headline: string; head: string }): void {
  const outdir = repository.display(repository.paths.outdir);
  const written = [
    plan.registryChanged ? repository.display(repository.paths.registryFile) : undefined,
    plan.fleetChanged ? repository.display(repository.paths.fleetFile) : undefined,
    ...plan.diff.environments.filter((folder) => plan.diff.changes.some((c) => c.environment === folder)).map((folder) => `${outdir}/${folder}/`),
  ].filter((f): f is string => f !== undefined);
  console.log(`${labels.headline}\nChanged: ${written.length > 0 ? written.join(', ') : 'nothing'}.\n`);
  console.log(renderDiffMarkdown(plan.diff, { base: `\`${outdir}/\` before`, head: labels.head }));
}
