/** The application shell: header (language, navigation), the routed screen, and the rules
 * that send a visitor without a session to the login screen. */
import { useSignalEffect } from "@preact/signals";
import type { ComponentType } from "preact";
import { lazy, LocationProvider, Route, Router, useLocation } from "preact-iso";
import { useEffect } from "preact/hooks";
import { EnrolScreen } from "../auth/EnrolScreen";
import { LoginScreen } from "../auth/LoginScreen";
import { SessionsScreen } from "../auth/SessionsScreen";
import { loggedIn, logout } from "../auth/session";
import { casesNav } from "../cases/nav";
import { navLabel } from "../devices/nav";
import { LANGUAGES, type Language, direction, isLanguage, language, setLanguage, t } from "../i18n";
import { pnNav } from "../prenotifications/nav";
import { navLabel as libraryNav } from "../library/nav";
import { analyticsNav } from "../analytics/nav";
import { NotFound } from "./NotFound";

/** `<html lang dir>` follow the chosen language (Arabic: right to left). */
function useDocumentLanguage() {
  useSignalEffect(() => {
    document.documentElement.lang = language.value;
    document.documentElement.dir = direction.value;
    document.title = t("app.name");
  });
}

function LanguageSwitch() {
  return (
    <div class="language">
      <label for="language">{t("app.language")}</label>
      <select
        id="language"
        value={language.value}
        onChange={(event) => {
          const value = (event.currentTarget as HTMLSelectElement).value;
          if (isLanguage(value)) setLanguage(value);
        }}
      >
        {(Object.keys(LANGUAGES) as Language[]).map((code) => (
          <option key={code} value={code} lang={code}>
            {LANGUAGES[code].name}
          </option>
        ))}
      </select>
    </div>
  );
}

function Header() {
  const { route, path } = useLocation();
  return (
    <header class="top">
      <a class="skip" href="#main">
        {t("app.skip")}
      </a>
      <div class="brand">
        <a href="/" class="name">
          {t("app.name")}
        </a>
        <span class="tagline">{t("app.tagline")}</span>
      </div>
      {loggedIn.value && (
        <nav aria-label={t("nav.main")}>
          <a href="/" aria-current={path === "/" || path.startsWith("/groups/") ? "page" : undefined}>
            {t("nav.groups")}
          </a>
          <a href="/feed" aria-current={path === "/feed" ? "page" : undefined}>
            {t("feed.nav")}
          </a>
          <a href="/cases" aria-current={path === "/cases" ? "page" : undefined}>
            {casesNav("cases.nav")}
          </a>
          <a href="/prenotifications" aria-current={path === "/prenotifications" ? "page" : undefined}>
            {pnNav("nav")}
          </a>
          <a href="/library" aria-current={path === "/library" ? "page" : undefined}>
            {libraryNav("nav")}
          </a>
          <a href="/analytics" aria-current={path === "/analytics" ? "page" : undefined}>
            {analyticsNav("nav")}
          </a>
          <a href="/devices" aria-current={path === "/devices" ? "page" : undefined}>
            {navLabel("devices")}
          </a>
          <a href="/sessions" aria-current={path === "/sessions" ? "page" : undefined}>
            {t("nav.sessions")}
          </a>
          <button
            type="button"
            class="link"
            onClick={async () => {
              await logout();
              route("/login", true);
            }}
          >
            {t("nav.logout")}
          </button>
        </nav>
      )}
      <LanguageSwitch />
    </header>
  );
}

/** A screen that needs a session; without one, the login screen. */
function Private({ screen: Screen }: { screen: ComponentType }) {
  const { route } = useLocation();
  const inside = loggedIn.value;
  useEffect(() => {
    if (!inside) route("/login", true);
  }, [inside]);
  return inside ? <Screen /> : null;
}

/** A screen for visitors; once logged in, the start page. */
function Public({ screen: Screen }: { screen: ComponentType }) {
  const { route } = useLocation();
  const inside = loggedIn.value;
  useEffect(() => {
    if (inside) route("/", true);
  }, [inside]);
  return inside ? null : <Screen />;
}

/** Move focus to the new screen's heading on navigation (WCAG 2.4.3). */
function focusHeading() {
  requestAnimationFrame(() => document.querySelector<HTMLElement>("main h1")?.focus({ preventScroll: true }));
}

/** The group screens and the devices screen are lazy chunks too (the login bundle stays as it was). */
const GroupsScreen = lazy(() => import("../groups/GroupsScreen").then((m) => m.GroupsScreen));
const GroupScreen = lazy(() => import("../groups/GroupScreen").then((m) => m.GroupScreen));
const DevicesScreen = lazy(() => import("../devices/DevicesScreen").then((m) => m.DevicesScreen));
const Home = () => <Private screen={GroupsScreen} />;
const Group = () => <Private screen={GroupScreen} />;
const Devices = () => <Private screen={DevicesScreen} />;
const Sessions = () => <Private screen={SessionsScreen} />;
/** The feed (protocol engine, HPKE, keystore) is its own chunk, fetched only once a logged-in
 * user opens it, so the login screen does not download it (same-origin script: CSP unchanged). */
const FeedScreen = lazy(() => import("../feed/FeedScreen").then((m) => m.FeedScreen));
const Feed = () => <Private screen={FeedScreen} />;
/** Pre-notifications: their own lazy chunk (records layer, templates, JSON Schema validator). */
const PrenotificationsScreen = lazy(() => import("../prenotifications/PrenotificationsScreen").then((m) => m.PrenotificationsScreen));
const Prenotifications = () => <Private screen={PrenotificationsScreen} />;
/** The library is its own chunk too (it shares the feed's keystore and engine chunk). */
const LibraryScreen = lazy(() => import("../library/LibraryScreen").then((m) => m.LibraryScreen));
const Library = () => <Private screen={LibraryScreen} />;
/** Seizure cases: a lazy chunk too (templates, code lists, the schema validator). */
const CasesScreen = lazy(() => import("../cases/CasesScreen").then((m) => m.CasesScreen));
const Cases = () => <Private screen={CasesScreen} />;
/** Analytics: its own chunk (the figures, regions, the records layer). */
const AnalyticsScreen = lazy(() => import("../analytics/AnalyticsScreen").then((m) => m.AnalyticsScreen));
const Analytics = () => <Private screen={AnalyticsScreen} />;
const Login = () => <Public screen={LoginScreen} />;
const Enrol = () => <Public screen={EnrolScreen} />;

export function App() {
  useDocumentLanguage();
  return (
    <LocationProvider>
      <Header />
      <main id="main" tabIndex={-1}>
        <Router onRouteChange={focusHeading}>
          <Route path="/" component={Home} />
          <Route path="/groups/:id" component={Group} />
          <Route path="/devices" component={Devices} />
          <Route path="/sessions" component={Sessions} />
          <Route path="/feed" component={Feed} />
          <Route path="/prenotifications" component={Prenotifications} />
          <Route path="/library" component={Library} />
          <Route path="/cases" component={Cases} />
          <Route path="/analytics" component={Analytics} />
          <Route path="/login" component={Login} />
          <Route path="/enrol" component={Enrol} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </LocationProvider>
  );
}
