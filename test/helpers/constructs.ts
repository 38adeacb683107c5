import { type Chart, Testing } from 'cdk8s';
import type { Construct } from 'constructs';
import { expect } from 'vitest';
import { ValidationError } from '../../lib/core';
import { ModelArchive, TorchServeService, type TorchServeServiceProps } from '../../lib/torchserve';
import { ManifestValidator, formatIssue } from '../../lib/validation';
import type { Manifest } from './manifests';

/**
 * Helpers for tests that build one construct directly in a chart, with props, as a cdk8s user
 * would: no fleet file involved.
 */

/** The namespace of every model built by {@link modelService}. */
export const NAMESPACE = 'ml';

/** A TorchServeService for a construct under test to work with; `props` override the defaults. */
export function modelService(scope: Construct, props: Partial<TorchServeServiceProps> = {}, id = 'intent-classifier'): TorchServeService {
  return new TorchServeService(scope, id, {
    modelName: 'intent_classifier',
    modelVersion: '1.0.0',
    modelArchive: ModelArchive.fromUri('s3://models/intent_classifier/1.0.0/intent_classifier.mar'),
    handler: 'handlers/intent_classifier_handler.py',
    image: 'pytorch/torchserve:0.12.0-gpu',
    cpu: '4',
    memory: '16Gi',
    namespace: NAMESPACE,
    ...props,
  });
}

/** The chart's objects, as `kubectl apply` would get them. */
export function synthObjects(chart: Chart): Manifest[] {
  return Testing.synth(chart) as Manifest[];
}

/** The one object of `kind` named `name`; throws with the objects there are when there is none. */
export function objectOf(objects: readonly Manifest[], kind: string, name: string): Manifest {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`${found.length} ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0];
}

let validator: ManifestValidator | undefined;

/** Asserts that the strict validator (unknown fields, CRD schemas and CEL rules) accepts every object. */
export function expectValid(objects: readonly Manifest[]): void {
  validator ??= ManifestValidator.load();
  expect(objects.length).toBeGreaterThan(0);
  expect(objects.flatMap((o) => validator!.validate(o)).map(formatIssue)).toEqual([]);
}

/**
 * The ValidationError `build` throws: asserts its code, and that the message names the code and
 * the construct path, then returns it for further checks.
 */
export function expectValidationError(build: () => unknown, code: string, constructPath: string, detail?: string | RegExp): ValidationError {
  let error: unknown;
  try {
    build();
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected ${code}`).toBeInstanceOf(ValidationError);
  const e = error as ValidationError;
  expect(e.code).toBe(code);
  expect(e.message.startsWith(`[${code}] ${constructPath}: `), e.message).toBe(true);
  if (typeof detail === 'string') expect(e.detail).toContain(detail);
  else if (detail) expect(e.detail).toMatch(detail);
  return e;
}
