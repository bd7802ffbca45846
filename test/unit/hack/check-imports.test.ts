import { describe, expect, it } from '@jest/globals';
import { folderCycles } from '../../../hack/check-imports.js';

const graph = (edges: [string, string][]) => {
  const m = new Map<string, Set<string>>();
  for (const [a, b] of edges) {
    if (!m.has(a)) m.set(a, new Set());
    m.get(a)?.add(b);
  }
  return m;
};

describe('folder-level cycle search', () => {
  it('finds none in a one-way graph', () => {
    expect(
      folderCycles(
        graph([
          ['cli', 'operator'],
          ['operator', 'controller'],
          ['controller', 'desired/stack'],
          ['controller', 'kube'],
          ['desired/stack', 'api'],
          ['kube', 'conventions'],
          ['api', 'conventions'],
        ]),
      ),
    ).toEqual([]);
  });

  it('names the folders of a back-edge cycle', () => {
    expect(
      folderCycles(
        graph([
          ['controller', 'desired/stack'],
          ['desired/stack', 'api'],
          ['api', 'controller'],
        ]),
      ),
    ).toEqual([['api', 'controller', 'desired/stack', 'api']]);
  });
});
