// The installable library: the constructs, their props and vocabulary, ValidationError and the
// strict validator. A cdk8s user composes these in their own chart; see the README, "Use the
// constructs in your own chart".
//
// The fleet file, the environments built from it and the repository services (output, registry,
// review, images, compose) are this project's app, not the library: they are imported from
// their folders (lib/fleet, lib/environment, lib/output, ...) by the CLI.
export * from './core';
export * from './torchserve';
export * from './gateway';
export * from './signals';
export * from './monitoring';
export * from './autoscaling';
export * from './release';
export * from './isolation';
export * from './cache';
export * from './gitops';
export * from './operations';
export * from './packaging';
export * from './cluster';
export * from './validation';
export * from './policy';
