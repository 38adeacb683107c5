/** A content digest as registries print it: the only image reference that cannot change under you. */
export const IMAGE_DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** An image as the fleet file names it: a repository, and a pinned tag, a digest, or both. */
export interface ImageCoordinates {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * The reference a container runtime pulls: `repository:tag@sha256:…` when both are given. The
 * runtime pulls by the digest and ignores the tag, which stays for the reader.
 */
export function imageRef(image: ImageCoordinates): string {
  return `${image.repository}${image.tag !== undefined ? `:${image.tag}` : ''}${image.digest !== undefined ? `@${image.digest}` : ''}`;
}

/**
 * Why `ref` is not pinned, or undefined when it is: it must end in a valid digest, or carry a
 * tag other than `latest`. A `latest` tag is refused even next to a digest, so a reader never
 * sees a floating name.
 */
export function unpinnedImageProblem(ref: string): string | undefined {
  const at = ref.indexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  if (/\s/.test(ref)) return 'must not contain whitespace';
  if (digest !== undefined && !IMAGE_DIGEST_PATTERN.test(digest)) return `has the digest "${digest}"; a digest is "sha256:" and 64 lowercase hex digits`;
  const tag = /:([^:/]+)$/.exec(name)?.[1];
  if (tag === 'latest' || (tag === undefined && digest === undefined)) {
    return 'must carry a pinned tag such as "pytorch/torchserve:0.12.0-gpu", never "latest", or a digest ("<repository>@sha256:<64 hex digits>")';
  }
  return undefined;
}
