import { ScreenTitle } from "./ui";
import { t } from "../i18n";

export function NotFound() {
  return (
    <section class="card">
      <ScreenTitle>{t("notfound.title")}</ScreenTitle>
      <p>
        <a href="/">{t("notfound.back")}</a>
      </p>
    </section>
  );
}
