// The import direction of the source folders (docs/architecture.md, "Folders"). `make test` runs
// `make check-imports`, which fails on any import that goes against it and on any cycle.
//
//   cli ─▶ operator ─▶ controller ─▶ desired ─▶ api ─▶ conventions, lib
//                                └──▶ kube ─────────▶ conventions, lib
//   cli ─▶ correlator ─────────────────────────────▶ conventions, lib
//   inside desired: stack ─▶ shipped ─▶ slo ─▶ dashboards
const SOURCE = '^(api|cli|conventions|controller|correlator|desired|kube|lib|operator)/';

/** Each folder and the folders of ours it may import (besides itself). */
const MAY_IMPORT = {
  conventions: [],
  lib: [],
  api: ['conventions', 'lib'],
  desired: ['api', 'conventions', 'lib'],
  kube: ['conventions', 'lib'],
  controller: ['desired', 'api', 'kube', 'conventions', 'lib'],
  operator: ['controller', 'desired', 'api', 'kube', 'conventions', 'lib'],
  correlator: ['conventions', 'lib'],
  cli: ['operator', 'correlator', 'controller', 'desired', 'api', 'kube', 'conventions', 'lib'],
};

/** Inside desired/: each part and the parts it may import (besides itself). */
const DESIRED_MAY_IMPORT = {
  dashboards: [],
  slo: ['dashboards'],
  shipped: ['slo', 'dashboards'],
  stack: ['shipped', 'slo', 'dashboards'],
};

const layerRules = Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
  name: `layer-${folder}`,
  comment: `${folder}/ may import only ${allowed.length ? allowed.map((f) => `${f}/`).join(', ') : 'nothing of ours'}`,
  severity: 'error',
  from: { path: `^${folder}/` },
  to: { path: SOURCE, pathNot: `^(${[folder, ...allowed].join('|')})/` },
}));

const desiredRules = Object.entries(DESIRED_MAY_IMPORT).map(([part, allowed]) => ({
  name: `desired-${part}`,
  comment: `desired/${part}/ may import only ${allowed.map((p) => `desired/${p}/`).join(', ') || 'no other part of desired/'}`,
  severity: 'error',
  from: { path: `^desired/${part}/` },
  to: { path: '^desired/', pathNot: `^desired/(${[part, ...allowed].join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle of imports, at any level, is refused.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    ...desiredRules,
    {
      name: 'source-not-dev',
      comment: 'What ships never imports hack/, test/ or bench/.',
      severity: 'error',
      from: { path: SOURCE },
      to: { path: '^(hack|test|bench)/' },
    },
    {
      name: 'client-node-only-in-kube',
      comment: 'kube/ is the only importer of @kubernetes/client-node.',
      severity: 'error',
      from: { path: SOURCE, pathNot: '^kube/' },
      to: { path: 'node_modules/@kubernetes/client-node/' },
    },
    {
      name: 'desired-is-pure',
      comment: 'desired/ renders without a client, clock, env, file system, network or child process.',
      severity: 'error',
      from: { path: '^desired/' },
      to: { dependencyTypes: ['core'], path: '^(fs|fs/promises|child_process|net|http|https|http2|os|process|dgram)$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is refused.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
