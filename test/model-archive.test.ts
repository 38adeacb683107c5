import { describe, expect, it } from 'vitest';
import { UnscopedValidationError } from '../lib/core';
import { ModelArchive } from '../lib/torchserve';

describe('ModelArchive', () => {
  it('reads the fleet file\'s notation: an S3 object or a path on a claim', () => {
    const s3 = ModelArchive.fromUri('s3://models/intent_classifier/1.0.0/intent_classifier.mar');
    expect([s3.source, s3.container, s3.key, s3.fileName, s3.directory]).toEqual(['s3', 'models', 'intent_classifier/1.0.0/intent_classifier.mar', 'intent_classifier.mar', 'intent_classifier/1.0.0']);
    const pvc = ModelArchive.fromUri('pvc://model-store/intent.mar');
    expect([pvc.source, pvc.uri, pvc.container, pvc.key, pvc.directory]).toEqual(['pvc', 'pvc://model-store/intent.mar', 'model-store', 'intent.mar', '']);
    // A leading slash inside the volume is the volume's root.
    expect(ModelArchive.fromPersistentVolumeClaim('model-store', '/a/b.mar').uri).toBe('pvc://model-store/a/b.mar');
  });

  it.each([
    ['a URI of another scheme', () => ModelArchive.fromUri('https://models/x.mar'), '[ModelArchive.InvalidUri] "https://models/x.mar" must be s3://<bucket>/<key>.mar or pvc://<claim>/<path>.mar'],
    ['a path leaving the volume', () => ModelArchive.fromUri('pvc://model-store/../x.mar'), '[ModelArchive.InvalidUri] "pvc://model-store/../x.mar" must stay inside the volume'],
    ['an S3 object that is not an archive', () => ModelArchive.fromS3('s3://models/x.tar.gz'), '[ModelArchive.InvalidS3Uri] "s3://models/x.tar.gz" is not an S3 model archive; expected s3://<bucket>/<key>.mar'],
    ['a volume path with ..', () => ModelArchive.fromPersistentVolumeClaim('model-store', 'a/../../x.mar'), '[ModelArchive.InvalidVolumePath] "a/../../x.mar" is not a model archive path inside the volume'],
  ])('refuses %s with a coded error (no construct to name yet)', (_name, make, message) => {
    expect(make).toThrow(UnscopedValidationError);
    expect(make).toThrow(message);
  });
});
