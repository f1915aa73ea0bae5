/** The start page once logged in: the user's groups with their status and role, each
 * opening its own screen (`/groups/:id`). A lazy chunk, so the login bundle does not grow. */
import { useEffect, useState } from "preact/hooks";
import { ErrorLine, ScreenTitle } from "../app/ui";
import { authed, session } from "../auth/session";
import { type Described, describeError, t } from "../i18n";
import type { GroupSummary } from "../feed/engine";
import { g } from "./messages";
import "./groups.css";

type Status = "planned" | "active" | "closed" | "archived";
type Role = "coordinator" | "co_coordinator" | "member" | "observer";
export const statusLabel = (s: string) => (["planned", "active", "closed", "archived"].includes(s) ? g(`status.${s as Status}`) : s);
export const roleLabel = (r: string) => (["coordinator", "co_coordinator", "member", "observer"].includes(r) ? g(`role.${r as Role}`) : r);

export function GroupsScreen() {
  const user = session.value?.user;
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [error, setError] = useState<Described | null>(null);
  useEffect(() => {
    authed<GroupSummary[]>("GET", "/groups").then(setGroups, (failure: unknown) => setError(describeError(failure)));
  }, []);
  return (
    <section>
      <ScreenTitle>{t("home.title")}</ScreenTitle>
      {user && <p>{t("home.welcome", { name: user.display_name })}</p>}
      <p>{g("intro")}</p>
      <ErrorLine error={error} />
      {groups && groups.length === 0 && <p class="notice">{g("none")}</p>}
      {groups && groups.length > 0 && (
        <table class="roster groups-list">
          <caption class="visually-hidden">{g("title")}</caption>
          <thead>
            <tr>
              <th scope="col">{g("col_group")}</th>
              <th scope="col">{g("col_status")}</th>
              <th scope="col">{g("col_role")}</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((group) => (
              <tr key={group.id} data-group={group.id}>
                <td dir="auto">
                  <a href={`/groups/${group.id}`}>{group.name}</a>
                </td>
                <td>
                  <span class={`status status-${group.status}`}>{statusLabel(group.status)}</span>
                </td>
                <td>{roleLabel(group.my_role)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
