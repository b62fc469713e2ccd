/** The app: sign-in, then the screens the user's role allows (src/routes.ts). */
import { LocationProvider, Router, Route, lazy, useLocation } from "preact-iso";
import { useEffect } from "preact/hooks";
import { session, loaded } from "./stores/session";
import { screens, allowed, homeOf } from "./routes";
import { t } from "./i18n";
import SignIn from "./screens/field/SignIn";

const Home = lazy(() => import("./screens/field/Home"));
const DeskHome = lazy(() => import("./screens/desk"));

function NotFound() {
  return (
    <main id="main" class="signin">
      <h1>{t("notfound.title")}</h1>
      <p><a href="/">{t("nav.home")}</a></p>
    </main>
  );
}

function Redirect({ to }: { to: string }) {
  const { route } = useLocation();
  useEffect(() => { route(to, true); }, [to]);
  return null;
}

function Routes() {
  if (!loaded.value) return <p class="loading">{t("common.loading")}</p>;
  const current = session.value?.account.role;
  if (!current) {
    return (
      <Router>
        <Route path="/sign-in" component={SignIn} />
        <Route default component={() => <Redirect to="/sign-in" />} />
      </Router>
    );
  }
  return (
    <Router>
      <Route path="/" component={homeOf(current) === "field" ? Home : DeskHome} />
      <Route path="/sign-in" component={SignIn} />
      {screens.filter((s) => allowed(s, current)).map((s) => <Route path={s.path} component={s.component} />)}
      <Route default component={NotFound} />
    </Router>
  );
}

export function App() {
  return (
    <LocationProvider>
      <a class="skip" href="#main">{t("nav.skip")}</a>
      <Routes />
    </LocationProvider>
  );
}
