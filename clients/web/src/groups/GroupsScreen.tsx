/** The start page once logged in. Groups, feed, cases, pre-notifications and the library
 * mount here when the protocol package (`src/crypto`) sets up the device's keys. */
import { ScreenTitle } from "../app/ui";
import { session } from "../auth/session";
import { t } from "../i18n";

export function GroupsScreen() {
  const user = session.value?.user;
  return (
    <section>
      <ScreenTitle>{t("home.title")}</ScreenTitle>
      {user && <p>{t("home.welcome", { name: user.display_name })}</p>}
      <p class="notice">{t("home.pending")}</p>
    </section>
  );
}
