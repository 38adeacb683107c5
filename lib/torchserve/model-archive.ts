import path from 'node:path';
import { UnscopedValidationError } from '../core';
import { S3_BUCKET_SOURCE } from '../private/aws';

/** S3's limit on an object key, in UTF-8 bytes. */
export const MAX_S3_KEY_BYTES = 1024;
/** A path inside a volume: Linux's PATH_MAX. */
export const MAX_VOLUME_PATH_BYTES = 4096;

const S3_ARCHIVE = new RegExp(`^s3://(${S3_BUCKET_SOURCE})/(.+)$`);
const PVC_ARCHIVE = /^pvc:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/(.+)$/;
// eslint-disable-next-line no-control-regex
const ARCHIVE_PATH = /^([^\s\u0000-\u001f\u007f]+\/)?[A-Za-z0-9._-]+\.mar$/;

/**
 * Why `uri` is not a model archive location (`s3://<bucket>/<key>.mar`, `pvc://<claim>/<path>.mar`),
 * or `undefined`. The fleet file, the registry and packaging follow this rule; completes "got <uri>; ...".
 */
export function modelArchiveProblem(uri: string): string | undefined {
  const s3 = S3_ARCHIVE.exec(uri);
  const pvc = PVC_ARCHIVE.exec(uri);
  const key = s3?.[2] ?? pvc?.[3];
  if (key === undefined || !ARCHIVE_PATH.test(key)) return 'must be s3://<bucket>/<key>.mar or pvc://<claim>/<path>.mar';
  if (s3 && Buffer.byteLength(key) > MAX_S3_KEY_BYTES) return `has a key of ${Buffer.byteLength(key)} bytes; S3 keys are at most ${MAX_S3_KEY_BYTES}`;
  if (pvc) {
    if (pvc[1].length > 253) return `names a claim of ${pvc[1].length} characters; a PersistentVolumeClaim name is at most 253`;
    if (key.split('/').includes('..')) return 'must stay inside the volume: its path must not contain ".."';
    if (Buffer.byteLength(key) > MAX_VOLUME_PATH_BYTES) return `has a path of ${Buffer.byteLength(key)} bytes; at most ${MAX_VOLUME_PATH_BYTES}`;
  }
  return undefined;
}

/**
 * Where a model's `.mar` archive lives.
 *
 * An S3 archive is copied into the pod by an init container (using the pod's IRSA role);
 * a PVC archive is mounted read-only, with no copy.
 */
export class ModelArchive {
  /** An archive in S3, e.g. `s3://models/intent_classifier/1.0.0/intent_classifier.mar`. */
  public static fromS3(uri: string): ModelArchive {
    const match = /^s3:\/\/([^/]+)\/(.+\.mar)$/.exec(uri);
    if (!match) {
      throw new UnscopedValidationError('ModelArchive.InvalidS3Uri', `"${uri}" is not an S3 model archive; expected s3://<bucket>/<key>.mar`);
    }
    return new ModelArchive('s3', uri, match[1], match[2]);
  }

  /** An archive on a PersistentVolumeClaim in the same namespace, at `archivePath` inside the volume. */
  public static fromPersistentVolumeClaim(claimName: string, archivePath: string): ModelArchive {
    const clean = archivePath.replace(/^\/+/, '');
    if (!clean.endsWith('.mar') || clean.split('/').includes('..')) {
      throw new UnscopedValidationError('ModelArchive.InvalidVolumePath', `"${archivePath}" is not a model archive path inside the volume; expected <dir>/<name>.mar`);
    }
    return new ModelArchive('pvc', `pvc://${claimName}/${clean}`, claimName, clean);
  }

  /** Parses the fleet file's `mar` notation: `s3://<bucket>/<key>.mar` or `pvc://<claim>/<path>.mar`. */
  public static fromUri(uri: string): ModelArchive {
    const problem = modelArchiveProblem(uri);
    if (problem) throw new UnscopedValidationError('ModelArchive.InvalidUri', `"${uri}" ${problem}`);
    if (uri.startsWith('pvc://')) {
      // modelArchiveProblem has checked the shape: a claim, a slash, a path.
      const rest = uri.slice('pvc://'.length);
      const slash = rest.indexOf('/');
      return ModelArchive.fromPersistentVolumeClaim(rest.slice(0, slash), rest.slice(slash + 1));
    }
    return ModelArchive.fromS3(uri);
  }

  private constructor(
    /** `s3` or `pvc`. */
    public readonly source: 's3' | 'pvc',
    /** The archive's URI, as written in the fleet file. */
    public readonly uri: string,
    /** The S3 bucket or the claim name. */
    public readonly container: string,
    /** The S3 key or the path inside the volume. */
    public readonly key: string,
  ) {}

  /** The archive's file name, which is what TorchServe loads from its model store. */
  public get fileName(): string {
    return path.posix.basename(this.key);
  }

  /** The folder holding the archive inside the volume ("" at the volume root). */
  public get directory(): string {
    const dir = path.posix.dirname(this.key);
    return dir === '.' ? '' : dir;
  }
}
