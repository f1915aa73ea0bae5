/** The list of the user's groups beside a feature's screen (alerts, cases, pre-notifications,
 * library, analytics): one group is shown at a time, and a user in a single group gets it
 * without a click. The feature gives its own wording and renders the chosen group. */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ErrorLine } from "../app/ui";
import { type GroupSummary, listGroups } from "../feed/engine";
import { groupsTick } from "../feed/live";
import { describe } from "../feed/unlock";
import type { Described } from "../i18n";

export interface GroupPickerProps {
  /** The list's heading and landmark name. */
  label: string;
  /** Said when the user is in no group. */
  empty: string;
  /** Said beside the list until a group is chosen (nothing when absent). */
  none?: ComponentChildren;
  /** The group to open first (from the address, e.g. `?group=`). */
  initial?: string | null;
  children: (group: GroupSummary) => ComponentChildren;
}

export function GroupPicker({ label, empty, none, initial, children }: GroupPickerProps) {
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [selected, setSelected] = useState<string | null>(initial ?? null);
  const [error, setError] = useState<Described | null>(null);
  useEffect(() => {
    listGroups().then(
      (found) => {
        setGroups(found);
        if (!selected && found.length === 1) setSelected(found[0]!.id);
      },
      (failure) => setError(describe(failure)),
    );
  }, [groupsTick.value]);
  const group = groups?.find((g) => g.id === selected) ?? null;
  return (
    <div class="feed-layout">
      <nav aria-label={label}>
        <h2>{label}</h2>
        <ErrorLine error={error} />
        {groups && groups.length === 0 && <p>{empty}</p>}
        <ul>
          {groups?.map((g) => (
            <li key={g.id}>
              <button type="button" class="group-pick" aria-current={g.id === selected ? "true" : undefined} onClick={() => setSelected(g.id)}>
                {g.name}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      {group ? children(group) : none}
    </div>
  );
}
