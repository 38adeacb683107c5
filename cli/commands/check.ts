import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { OutputFolderReport, ServingRepository, TreeDifference } from '../../lib/repository';
import type * as Validation from '../../lib/validation';
import { CliError, refusing } from '../cli-error';
import { openRepository, outputOption, packagingDirOption, registryOption } from '../options';

/** At most this many lines per kind of problem; the count says how many more. */
const MAX_LINES = 20;

/**
 * `model-serving check`: what the users' CI runs on their serving repository, whatever their
 * fleet holds. It passes only when the fleet file and the registry agree, the committed output
 * is exactly what they synthesize, and every object passes the strict schemas, the policy suite
 * and a Kustomize build (packaging Jobs too). It writes nothing.
 */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check the serving repository for CI: the fleet file and registry are valid together, the output folder is fresh, and every manifest passes strict schemas, the policy suite and a Kustomize build; writes nothing')
    .addOption(registryOption())
    .addOption(outputOption())
    .addOption(packagingDirOption())
    .action(async (_options: unknown, command: Command) => {
      const repository = openRepository(command);
      // The schema validators and the CEL runtime load only for the commands that use them.
      const [{ checkRepository }, { formatIssue }] = await Promise.all([import('../../lib/repository/output-check'), import('../../lib/validation')]);
      const report = refusing(() => checkRepository(repository), 'check: FAILED');
      const problems: string[] = [];
      const ok: string[] = [];
      const outdir = repository.display(repository.paths.outdir);

      ok.push(`${repository.display(repository.paths.fleetFile)}${report.registry ? ` and ${repository.display(repository.paths.registryFile)}` : ''}: valid (${report.models.length} ${report.models.length === 1 ? 'model' : 'models'}, environments ${report.environments.join(', ')})`);
      const stale = staleness(report.freshness, outdir);
      if (!fs.existsSync(repository.paths.outdir)) {
        problems.push(`${outdir}/ does not exist; run "npm run synth" (or "model-serving synth") and commit ${outdir}/`);
      } else if (stale.length > 0) {
        problems.push(`${outdir}/ is not what the fleet file synthesizes; run "npm run synth" (or "model-serving synth") and commit ${outdir}/:`, ...stale);
      } else {
        ok.push(`${outdir}/ is fresh`);
      }
      folderProblems(repository, report.output, outdir, problems, ok, formatIssue);
      const images = report.images;
      if (images.fresh) {
        if (images.files.length > 0) ok.push(`the serving image files (${images.images.map((i) => `${i.name}`).join(', ')}) are what the fleet file defines`);
      } else {
        const root = path.dirname(repository.display(repository.paths.fleetFile));
        const shown = (p: string) => (root === '.' ? p : path.join(root, p));
        problems.push('the serving image files are not what the fleet file defines; run "model-serving image" and commit them:',
          ...images.changed.map((f) => `  ${images.foreign.includes(f) ? 'foreign' : 'changed'}  ${shown(f.path)}`),
          ...images.stale.map((f) => `  extra    ${shown(f)}`));
      }
      if (report.packaging) folderProblems(repository, report.packaging, repository.display(repository.paths.packagingDir), problems, ok, formatIssue);

      for (const line of ok) console.log(`check: ${line}`);
      if (problems.length > 0) {
        throw new CliError(`check: FAILED\n${problems.map((p) => (p.startsWith('  ') ? p : `- ${p}`)).join('\n')}`);
      }
      console.log('check: OK');
    });
}

function staleness(diff: TreeDifference, outdir: string): string[] {
  const lines = [
    ...diff.missing.map((f) => `missing  ${outdir}/${f}`),
    ...diff.extra.map((f) => `extra    ${outdir}/${f}${f.startsWith('packaging/') ? ' (packaging Jobs live beside the fleet file now: git mv the folder to packaging/)' : ''}`),
    ...diff.changed.map((f) => `changed  ${outdir}/${f}`),
  ];
  return capped(lines).map((l) => `  ${l}`);
}

function folderProblems(repository: ServingRepository, report: OutputFolderReport, label: string, problems: string[], ok: string[], formatIssue: typeof Validation.formatIssue): void {
  if (report.schemaIssues.length > 0) {
    problems.push(`${label}/: ${report.schemaIssues.length} schema problem(s):`, ...capped(report.schemaIssues.map(formatIssue)).map((l) => `  ${l}`));
  } else {
    ok.push(`${label}/: ${report.objects} objects valid against the strict Kubernetes and CRD schemas`);
  }
  if (report.violations.length > 0) {
    problems.push(`${label}/: ${report.violations.length} policy violation(s):`, ...capped(report.violations.map((v) => `${repository.display(v.folder)}: ${v.object}: [${v.check}] ${v.message}`)).map((l) => `  ${l}`));
  } else {
    ok.push(`${label}/: no Pod Security "restricted" or kube-linter violations`);
  }
  const { kustomize } = report;
  if (kustomize.failed.length > 0) {
    problems.push(`${label}/: kubectl kustomize failed:`, ...kustomize.failed.map((f) => `  ${repository.display(f.folder)}: ${f.message}`));
  } else if (kustomize.skipped) {
    ok.push(`${label}/: Kustomize builds skipped (${kustomize.skipped})`);
  } else {
    ok.push(`${label}/: ${kustomize.built.length} Kustomize ${kustomize.built.length === 1 ? 'folder builds' : 'folders build'} (${kustomize.built.map((f) => path.basename(f)).join(', ')})`);
  }
}

function capped(lines: string[]): string[] {
  return lines.length <= MAX_LINES ? lines : [...lines.slice(0, MAX_LINES), `...and ${lines.length - MAX_LINES} more`];
}
