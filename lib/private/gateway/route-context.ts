import type { Construct } from 'constructs';

/** Everything a gateway renderer needs to know about one model's routes. */
export interface RouteContext {
  readonly scope: Construct;
  /** Object name prefix: the model's Kubernetes name. */
  readonly name: string;
  readonly namespace: string;
  readonly modelName: string;
  readonly labels: Record<string, string>;
  readonly host: string;
  readonly tlsSecretName: string;
  readonly className?: string;
  readonly inference: BackendService;
  readonly management: BackendService;
  readonly responseTimeoutSeconds: number;
  readonly maxRequestBytes: number;
  readonly routeHealthCheck: boolean;
  readonly managementRoute?: { readonly host: string; readonly allowFrom: readonly string[] };
  readonly jwt?: { readonly authUrl?: string };
  readonly rateLimit?: { readonly requestsPerSecond: number; readonly burst: number };
  readonly cacheGetResponses: boolean;
  /** Argo Rollouts' canary Service: the prediction route splits traffic between it and `inference` by weight. */
  readonly canary?: BackendService;
  /** Blue-green preview Service: reached through the prediction paths with the preview header. */
  readonly preview?: BackendService;
}

/** A Service routes send traffic to. */
export interface BackendService {
  readonly name: string;
  readonly port: number;
  readonly portName: string;
  /** Adds an annotation to the Service (Kong reads its upstream timeouts there). */
  addAnnotation(key: string, value: string): void;
}

/** What a gateway's environment-wide objects need. */
export interface FrontendParts {
  readonly scope: Construct;
  /** Object name prefix, e.g. the fleet name. */
  readonly name: string;
  readonly namespace: string;
  /** Every host the environment serves. */
  readonly hosts: readonly string[];
  /** The Secret with the certificate for every host. */
  readonly tlsSecretName: string;
  readonly labels: Record<string, string>;
}

/** Object names each renderer reports back, so callers (alerts, canaries) can refer to them. */
export interface RenderedRoutes {
  /** The route object carrying the prediction API. */
  readonly predictionRoute: string;
  /** The route object carrying the preview header route, if any. */
  readonly previewRoute?: string;
}

/** Requests with this header reach a blue-green preview instead of the active version. */
export const PREVIEW_HEADER = 'X-Model-Preview';
export const PREVIEW_HEADER_VALUE = 'true';

/** The prediction API paths of a model. */
export function predictionPaths(modelName: string): string[] {
  return [`/predictions/${modelName}`, `/explanations/${modelName}`];
}

/** The management API path of a model (describe and scale). */
export function managementPath(modelName: string): string {
  return `/models/${modelName}`;
}

export const HEALTH_PATH = '/ping';
