import { classNamesOf, predictEnsembleRows, type LoadedEnsemble } from '@chorus/models';
import type { ServedEnsemble } from '@chorus/protocol';
import type { ServedModel } from './serve-server';

/** A loaded export as what the server serves; `GET /ensemble` shows its manifest without file paths. */
export function servedModelOf(ensemble: LoadedEnsemble): ServedModel {
  const { manifest } = ensemble;
  const { files: _files, ...rest } = manifest;
  const view: ServedEnsemble = { ...rest, members: manifest.members.map(({ path: _path, ...m }) => m) };
  return {
    view,
    features: manifest.dataset.inputShape.reduce((a, b) => a * b, 1),
    classNames: classNamesOf(manifest.dataset),
    strategy: manifest.defaultStrategy,
    predictRows: (x, count) => predictEnsembleRows(ensemble, x, count),
  };
}
