// PRE-FETCH(10)/(16) (SBC-3 5.9, 5.10 in r36 numbering: "PRE-FETCH"). This device server has
// no cache of its own (the host page cache is shared and not ours to fill), so after the range
// check it answers GOOD: SBC-3 says GOOD, not CONDITION MET, when the blocks will not all fit
// in the cache. IMMED changes nothing when there is nothing to wait for.
import type { PreFetch } from './command.ts';
import { checkRange } from './block-range.ts';
import { GOOD } from './response.ts';
import type { ScsiResponse } from './types.ts';
import type { UnitState } from './unit-state.ts';

export function executePreFetch(cmd: PreFetch, unit: UnitState): ScsiResponse {
  checkRange(cmd, unit);
  return GOOD;
}
