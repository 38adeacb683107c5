import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { loadFleet } from '../../lib/fleet';
import type * as OutputCheck from '../../lib/repository/output-check';
import type * as Validation from '../../lib/validation';
import { CliError } from '../cli-error';
import { openRepository } from '../options';

/**
 * `model-serving validate [dir]`: checks synthesized manifests three ways.
 * 1. In-process, strict (unknown fields and duplicate keys are errors) against the Kubernetes
 *    1.28 schema and the imported CRD schemas, with the CRDs' x-kubernetes-validations (CEL)
 *    rules evaluated after defaulting, as the API server does. Needs no network.
 * 2. The policy suite: Pod Security "restricted" and kube-linter's default checks, per folder.
 * 3. `kubeconform -strict` over each Kustomize folder when kubeconform is installed, as an
 *    independent second opinion from the upstream schema catalogues.
 */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check manifests: strict schemas, Pod Security restricted and kube-linter checks, and kubeconform -strict when installed')
    .argument('[dir]', 'folder of synthesized manifests (default: the output folder, dist beside the fleet file)')
    .action(async (given: string | undefined, _options: unknown, command: Command) => {
      const repository = openRepository(command);
      const dir = given ?? repository.paths.outdir;
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${dir} is not a directory; run "npm run synth" first`);
      // The schema validators and the CEL runtime load only for the commands that use them.
      const [checks, validation] = await Promise.all([import('../../lib/repository/output-check'), import('../../lib/validation')]);
      const schemasOk = runSchemas(dir, validation);
      const policiesOk = runPolicies(dir, productionNamespaces(repository.paths.fleetFile), checks);
      const kubeconform = findOnPath('kubeconform');
      let kubeconformOk = true;
      if (kubeconform) kubeconformOk = runKubeconform(dir, kubeconform, checks);
      else console.log('kubeconform: skipped, kubeconform is not on PATH');
      if (!(schemasOk && policiesOk && kubeconformOk)) throw new CliError('validation failed (see above)');
    });
}

/** Namespaces of the fleet's production environments, for the spread check; none if the fleet file is unreadable. */
function productionNamespaces(fleetFile: string): string[] {
  try {
    return Object.values(loadFleet(fleetFile).environments).filter((e) => e.stage === 'production').map((e) => e.namespace);
  } catch {
    return [];
  }
}

function runPolicies(dir: string, production: string[], { checkFolderPolicies }: typeof OutputCheck): boolean {
  const violations = checkFolderPolicies(dir, production);
  for (const v of violations) console.log(`${path.relative(process.cwd(), v.folder) || '.'}: ${v.object}: [${v.check}] ${v.message}`);
  console.log(`Policies: Pod Security restricted and kube-linter defaults - ${violations.length} violation(s)`);
  return violations.length === 0;
}

const KUBERNETES_VERSION = '1.28.0';
const CRD_SCHEMA_LOCATION = 'https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json';
const KUBECONFORM_ARGS = [
  '-strict',
  '-summary',
  '-kubernetes-version',
  KUBERNETES_VERSION,
  '-schema-location',
  'default',
  '-schema-location',
  CRD_SCHEMA_LOCATION,
];

function findOnPath(command: string): string | undefined {
  const names = process.platform === 'win32' ? [`${command}.exe`, `${command}.cmd`, command] : [command];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // Not here; keep looking.
      }
    }
  }
  return undefined;
}

function runSchemas(dir: string, { validateDirectory, formatIssue, describeCelRule }: typeof Validation): boolean {
  const result = validateDirectory(dir);
  for (const issue of result.issues) console.log(formatIssue(issue));
  console.log(
    `Summary: ${result.objects} resource(s) found in ${result.files} file(s) - Valid: ${result.objects - result.invalid}, Invalid: ${result.invalid}`,
  );
  printCelSummary(result.cel, describeCelRule);
  return result.issues.length === 0;
}

/** The CEL rules' counts, then the rules that were met but not evaluated: transition rules and unsupported ones. */
function printCelSummary(cel: Validation.CelSummary, describeCelRule: typeof Validation.describeCelRule): void {
  const count = (uses: Validation.CelSummary['transitionSkipped']): number => uses.reduce((n, u) => n + u.count, 0);
  console.log(
    `CEL rules (x-kubernetes-validations): ${cel.evaluations} evaluation(s) of ${cel.evaluatedRules.length} rule(s) on ${cel.objects} object(s) - ` +
      `Failed: ${cel.failures}, Transition rules skipped: ${count(cel.transitionSkipped)}, Unsupported: ${count(cel.unsupported)}, ` +
      `Objects not checked because of schema errors: ${cel.notChecked}`,
  );
  for (const { info, count: values } of cel.transitionSkipped) {
    console.log(`  skipped transition rule (it compares with the stored object; none here) on ${values} value(s): ${describeCelRule(info)}`);
  }
  for (const { info, count: values } of cel.unsupported) {
    console.log(`  UNSUPPORTED rule (${info.unsupported}) on ${values} value(s): ${describeCelRule(info)}`);
  }
}

function runKubeconform(dir: string, kubeconform: string, { kustomizationFolders, manifestFiles }: typeof OutputCheck): boolean {
  const kubectl = findOnPath('kubectl');
  const folders = kustomizationFolders(dir);
  if (folders.length === 0) {
    console.log(`kubeconform: no kustomization.yaml in ${dir} or its subfolders; nothing to check`);
    return true;
  }
  let ok = true;
  for (const folder of folders) {
    if (kubectl) {
      console.log(`kubeconform: kubectl kustomize ${folder}`);
      const built = spawnSync(kubectl, ['kustomize', folder], { encoding: 'utf-8', maxBuffer: 256 * 1024 * 1024 });
      if (built.error || built.status !== 0) {
        console.error(`kubectl kustomize ${folder} failed: ${built.error?.message ?? built.stderr.trim()}`);
        ok = false;
        continue;
      }
      const checked = spawnSync(kubeconform, KUBECONFORM_ARGS, { input: built.stdout, stdio: ['pipe', 'inherit', 'inherit'] });
      if (checked.error || checked.status !== 0) ok = false;
    } else {
      console.log(`kubeconform: ${folder} (kubectl is not on PATH, so the files are checked one by one)`);
      const checked = spawnSync(kubeconform, [...KUBECONFORM_ARGS, ...manifestFiles(folder)], { stdio: 'inherit' });
      if (checked.error || checked.status !== 0) ok = false;
    }
  }
  return ok;
}

