import { describe, expect, it } from 'vitest';
import { UnscopedValidationError } from '../lib/core';
import { GpuMetrics } from '../lib/signals';

describe('GpuMetrics', () => {
  it('reads DCGM series by the exporter\'s pod labels after the scrape, or by the labels a cluster keeps', () => {
    expect([GpuMetrics.dcgm().namespaceLabel, GpuMetrics.dcgm().podLabel]).toEqual(['exported_namespace', 'exported_pod']);
    const honoured = GpuMetrics.dcgm({ namespaceLabel: 'namespace', podLabel: 'pod' });
    expect([honoured.namespaceLabel, honoured.podLabel]).toEqual(['namespace', 'pod']);
  });

  it.each([
    ['a namespace label with a dash', { namespaceLabel: 'exported-namespace' }, `[GpuMetrics.InvalidLabelName] GpuMetrics.dcgm: 'namespaceLabel' ("exported-namespace") must be a Prometheus label name`],
    ['an empty pod label', { podLabel: '' }, `[GpuMetrics.InvalidLabelName] GpuMetrics.dcgm: 'podLabel' ("") must be a Prometheus label name`],
  ])('refuses %s with a coded error', (_name, options, message) => {
    expect(() => GpuMetrics.dcgm(options)).toThrow(UnscopedValidationError);
    expect(() => GpuMetrics.dcgm(options)).toThrow(message);
  });
});
