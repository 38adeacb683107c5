import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { synthesizeFleet } from '../../lib/output';
import { diffManifests, readManifestDirectory, readManifestsAtRef, renderDiffMarkdown } from '../../lib/review';
import { CliError } from '../cli-error';
import { openRepository, outputOption, registryOption } from '../options';

interface DiffOptions {
  readonly base?: string;
}

/**
 * `model-serving diff`: synthesizes the fleet file afresh and compares the result with the
 * output folder (as it is on disk) or with the output folder at a git revision, printing a
 * Markdown summary ready to post on a pull request.
 */
export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare a fresh synthesis with the committed output folder, or with the output folder at a git ref, as Markdown for a pull request')
    .option('-b, --base <ref>', 'compare with the output folder at this git revision (default: the folder on disk)')
    .addOption(outputOption())
    // The flag's name before every command took --output.
    .addOption(new Option('-d, --dist <dir>').hideHelp())
    .addOption(registryOption())
    .action((options: DiffOptions & { dist?: string; output?: string }, command: Command) => {
      if (options.dist !== undefined && options.output === undefined) command.setOptionValue('output', options.dist);
      const repository = openRepository(command);
      const source = repository.loadFleet();
      // Synthesized as "model-serving synth" does, so an unchanged fleet shows no difference.
      const registry = repository.loadRegistry();
      repository.releases(source, registry);
      const dist = repository.display(repository.paths.outdir);

      let base;
      let baseLabel: string;
      if (options.base !== undefined) {
        const commit = resolveCommit(options.base);
        base = readManifestsAtRef(commit, repository.paths.outdir, process.cwd());
        baseLabel = `\`${dist}/\` at \`${options.base}\` (${commit.slice(0, 7)})`;
      } else {
        if (!fs.existsSync(repository.paths.outdir)) {
          throw new CliError(`${dist}/ does not exist; run "model-serving synth" first, or compare with a git revision: --base <ref>`);
        }
        base = readManifestDirectory(repository.paths.outdir);
        baseLabel = `\`${dist}/\` as committed`;
      }

      const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-serving-diff-'));
      try {
        const outdir = path.join(temp, 'dist');
        synthesizeFleet({ fleet: source.config, outdir, registry: registry?.registry });
        const diff = diffManifests(base, readManifestDirectory(outdir));
        process.stdout.write(renderDiffMarkdown(diff, { base: baseLabel, head: `a fresh synthesis of \`${path.basename(repository.paths.fleetFile)}\`` }));
      } finally {
        fs.rmSync(temp, { recursive: true, force: true });
      }
    });
}

/** The commit a revision names; a CliError when git does not know it. */
function resolveCommit(ref: string): string {
  if (ref.startsWith('-')) throw new CliError(`--base "${ref}" is not a git revision`);
  const result = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { encoding: 'utf-8' });
  if (result.error) throw new CliError(`cannot run git: ${result.error.message}`);
  if (result.status !== 0) throw new CliError(`--base "${ref}" is not a commit of the git repository in ${process.cwd()}`);
  return result.stdout.trim();
}
