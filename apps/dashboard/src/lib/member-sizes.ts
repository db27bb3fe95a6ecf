import { DEFAULT_MAX_MEMBER_PARAMS, knownDatasetShape, memberSizes, type RunConfig } from '@chorus/protocol';

/** Members of the same width, for the New run form's size list. */
export interface MemberSizeRow {
  members: number[];
  width: number;
  /** null: the dataset's input does not fit the model (`error` says why). */
  params: number | null;
  error?: string;
  /** Over the coordinator's default limit (its CHORUS_MAX_MEMBER_PARAMS may be set otherwise). */
  overDefaultLimit: boolean;
}

/**
 * Each member's parameter count (libs/protocol model-size.ts, the same arithmetic the coordinator
 * checks at launch), members of the same width on one row, in member order; null for a csv/npy/images
 * dataset, whose shape only the coordinator learns when it reads the files.
 */
export function memberSizeRows(config: RunConfig): MemberSizeRow[] | null {
  const shape = knownDatasetShape(config.dataset);
  if (shape === undefined) return null;
  const rows: MemberSizeRow[] = [];
  for (const size of memberSizes(config, shape)) {
    const same = rows.find((r) => r.width === size.width);
    if (same) {
      same.members.push(size.member);
      continue;
    }
    rows.push({
      members: [size.member],
      width: size.width,
      params: size.params,
      ...(size.error !== undefined && { error: size.error }),
      overDefaultLimit: size.params !== null && size.params > DEFAULT_MAX_MEMBER_PARAMS,
    });
  }
  return rows;
}

/** "member 2", "members 0, 1, 3". */
export function memberList(members: readonly number[]): string {
  return `${members.length === 1 ? 'member' : 'members'} ${members.join(', ')}`;
}
