import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { synthToTemp } from './helpers/app';
import { runCli } from './helpers/cli';

function editObject(file: string, edit: (o: any) => void): void {
  const object = parse(fs.readFileSync(file, 'utf-8'));
  edit(object);
  fs.writeFileSync(file, stringify(object));
}

describe('model-serving validate', () => {
  it('accepts fresh output: strict schemas, policies, and says when kubeconform is absent', () => {
    const run = runCli(['validate', synthToTemp()], { env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` } });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Summary: \d+ resource\(s\) found in \d+ file\(s\) - Valid: \d+, Invalid: 0/);
    expect(run.stdout).toContain('Policies: Pod Security restricted and kube-linter defaults - 0 violation(s)');
    expect(run.stdout).toContain('kubeconform: skipped, kubeconform is not on PATH');
    // The gateway and autoscaling objects carry CEL rules; they ran and passed, and none was unsupported.
    expect(run.stdout).toMatch(/CEL rules \(x-kubernetes-validations\): [1-9]\d* evaluation\(s\) of [1-9]\d* rule\(s\) on [1-9]\d* object\(s\) - Failed: 0, Transition rules skipped: \d+, Unsupported: 0, Objects not checked because of schema errors: 0/);
  });

  it('fails on objects that the CRDs\' CEL rules reject, naming the file, the object, the field and the rule\'s message', () => {
    const dir = path.join(path.dirname(synthToTemp()), 'cel');
    fs.cpSync(path.join(__dirname, 'fixtures', 'cel', 'rejected'), dir, { recursive: true });
    const run = runCli(['validate', dir]);
    expect(run.status).toBe(1);
    const file = (name: string): string => path.join(dir, name);
    expect(run.stdout).toContain(`${file('httproute-redirect-with-backendref.yaml')}: HTTPRoute/intent-classifier: /spec/rules/0: RequestRedirect filter must not be used together with backendRefs`);
    expect(run.stdout).toContain(
      `${file('httproute-pathprefix-without-slash.yaml')}: HTTPRoute/intent-classifier: /spec/rules/0/matches/0/path: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']`,
    );
    expect(run.stdout).toContain(`${file('kongconsumer-without-username-or-custom-id.yaml')}: KongConsumer/batch-client: Need to provide either username or custom_id`);
    const count = fs.readdirSync(dir).length;
    expect(run.stdout).toContain(`Summary: ${count} resource(s) found in ${count} file(s) - Valid: 0, Invalid: ${count}`);
    expect(run.stdout).toMatch(new RegExp(`- Failed: ${count}, Transition rules skipped: \\d+, Unsupported: 0,`));
    expect(run.stderr).toContain('error: validation failed');
  });

  it('fails on an unknown field, naming the file, the object and the field', () => {
    const dir = synthToTemp();
    editObject(path.join(dir, 'staging', 'Deployment.intent-classifier.k8s.yaml'), (o) => { o.spec.template.spec.containers[0].imagePullPolicyy = 'Always'; });
    const run = runCli(['validate', dir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('Deployment/intent-classifier: /spec/template/spec/containers/0/imagePullPolicyy: unknown field "imagePullPolicyy"');
    expect(run.stderr).toContain('error: validation failed');
  });

  it('fails on a policy violation', () => {
    const dir = synthToTemp();
    editObject(path.join(dir, 'production', 'Deployment.intent-classifier.k8s.yaml'), (o) => { o.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true; });
    const run = runCli(['validate', dir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('[pss-privilege-escalation] container "torchserve": allowPrivilegeEscalation must be false');
  });

  it('runs kubeconform -strict on every Kustomize folder when it is on PATH', () => {
    const bin = fs.mkdtempSync(path.join(path.dirname(synthToTemp()), 'bin-'));
    const log = path.join(bin, 'calls.log');
    // A recording stand-in: kubeconform itself cannot be installed here.
    fs.writeFileSync(path.join(bin, 'kubeconform'), `#!/bin/sh\necho "$@" >> ${log}\ncat > /dev/null\necho "Summary: 1 resource found parsing stdin - Valid: 1"\n`, { mode: 0o755 });
    const run = runCli(['validate', synthToTemp()], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(run.status).toBe(0);
    const calls = fs.readFileSync(log, 'utf-8').trim().split('\n');
    expect(calls).toHaveLength(3);
    for (const call of calls) expect(call).toContain('-strict -summary -kubernetes-version 1.28.0');
  });
});
