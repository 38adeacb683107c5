import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ManifestValidator } from '../lib/validation';
import { readTree, synthToTemp, tempDir } from './helpers/app';

type Container = Record<string | number, unknown>;

/** The scalar slots (container and key) and the objects within a value, in a fixed order. */
function slotsOf(value: unknown, slots: [Container, string | number][] = [], objects: Container[] = []): { slots: typeof slots; objects: typeof objects } {
  if (value !== null && typeof value === 'object') {
    if (!Array.isArray(value)) objects.push(value as Container);
    for (const [key, item] of Object.entries(value)) {
      if (item !== null && typeof item === 'object') slotsOf(item, slots, objects);
      else slots.push([value as Container, Array.isArray(value) ? Number(key) : key]);
    }
  }
  return { slots, objects };
}

/**
 * Every object of the synthesized example fleet, and broken copies: a wrong type at every ninth
 * scalar, an unknown field in every seventh nested object, no apiVersion.
 */
function corpus(): unknown[] {
  const objects = Object.entries(readTree(synthToTemp()))
    .filter(([file]) => file.endsWith('.k8s.yaml'))
    .flatMap(([, text]) => parseAllDocuments(text).map((doc) => doc.toJS() as Container));
  const broken = objects.flatMap((object) => {
    const { slots, objects: within } = slotsOf(object);
    const copies: unknown[] = [];
    for (let i = 0; i < slots.length; i += 9) {
      const copy = structuredClone(object);
      const [parent, key] = slotsOf(copy).slots[i];
      parent[key] = typeof parent[key] === 'string' ? 42 : typeof parent[key] === 'number' ? 'forty-two' : 'yes';
      copies.push(copy);
    }
    for (let i = 0; i < within.length; i += 7) {
      const copy = structuredClone(object);
      slotsOf(copy).objects[i].unknownFieldForTheTest = 'x';
      copies.push(copy);
    }
    const { apiVersion: _, ...withoutApiVersion } = object;
    copies.push(withoutApiVersion);
    return copies;
  });
  return [...objects, ...broken];
}

describe('compiled validators kept on disk', () => {
  const objects = corpus();

  it('report exactly what the validators Ajv compiled report, and are loaded, not compiled again', () => {
    const cacheDir = tempDir('validators-');
    // Compiled by Ajv, as without a cache; their code is stored.
    const cold = ManifestValidator.load({ cacheDir });
    const expected = objects.map((o) => cold.validate(o));
    expect(expected.filter((issues) => issues.length > 0).length).toBeGreaterThan(objects.length / 2);
    const [folder] = fs.readdirSync(cacheDir);
    const files = fs.readdirSync(path.join(cacheDir, folder)).sort();
    expect(files).toEqual(expect.arrayContaining(['apps_v1_Deployment.cjs', 'gateway.networking.k8s.io_v1_HTTPRoute.cjs', 'v1_Service.cjs']));
    const written = Object.fromEntries(files.map((f) => [f, fs.statSync(path.join(cacheDir, folder, f)).mtimeMs]));

    const warm = ManifestValidator.load({ cacheDir });
    expect(objects.map((o) => warm.validate(o))).toEqual(expected);
    expect(Object.fromEntries(files.map((f) => [f, fs.statSync(path.join(cacheDir, folder, f)).mtimeMs]))).toEqual(written);
  });

  it('compiles again over a cache file that cannot be loaded', () => {
    const cacheDir = tempDir('validators-');
    const deployments = objects.filter((o) => (o as { kind?: string }).kind === 'Deployment');
    const inMemory = ManifestValidator.load({ cacheDir: false });
    const expected = deployments.map((o) => inMemory.validate(o));
    ManifestValidator.load({ cacheDir }).validate(deployments[0]);
    const [folder] = fs.readdirSync(cacheDir);
    const file = path.join(cacheDir, folder, 'apps_v1_Deployment.cjs');
    fs.writeFileSync(file, 'module.exports = (');
    const recovered = ManifestValidator.load({ cacheDir });
    expect(deployments.map((o) => recovered.validate(o))).toEqual(expected);
    expect(fs.readFileSync(file, 'utf-8')).toMatch(/^"use strict";/);
  });
});
