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
 * An image tag, as the Docker reference grammar defines it: letters, digits, "_", "." and "-",
 * at most 128 characters, not starting with "." or "-".
 *
 * @see https://github.com/distribution/reference/blob/main/reference.go
 */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * A reference split into its parts: `repository[:tag][@digest]`. The tag is what follows the
 * last ":" of the name when no "/" follows it, so a registry port ("host:5000/repo") is no tag.
 */
export function parseImageRef(ref: string): ImageCoordinates {
  const at = ref.indexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const tag = /:([^:/]+)$/.exec(name)?.[1];
  return { repository: tag === undefined ? name : name.slice(0, -tag.length - 1), tag, digest };
}

/**
 * Why `ref` is not pinned, or undefined when it is: it must end in a valid digest, or carry a
 * tag other than `latest`; a tag must be one ({@link IMAGE_TAG}). A `latest` tag is refused even
 * next to a digest, so a reader never sees a floating name. The constructs throw it and the
 * compose command refuses an --image by it; `example` is a pinned image the message offers.
 */
export function unpinnedImageProblem(ref: string, example = 'pytorch/torchserve:0.12.0-gpu'): string | undefined {
  const { tag, digest } = parseImageRef(ref);
  if (/\s/.test(ref)) return 'must not contain whitespace';
  if (digest !== undefined && !IMAGE_DIGEST_PATTERN.test(digest)) return `has the digest "${digest}"; a digest is "sha256:" and 64 lowercase hex digits`;
  if (tag === 'latest' || (tag === undefined && digest === undefined)) {
    return `must carry a pinned tag such as "${example}", never "latest", or a digest ("<repository>@sha256:<64 hex digits>")`;
  }
  if (tag !== undefined && !IMAGE_TAG.test(tag)) return `has the tag "${tag}"; a tag is letters, digits, "_", "." and "-", at most 128 characters, not starting with "." or "-"`;
  return undefined;
}
