/** GET /: the dashboard of the session's tenant. */
import { Hono } from "hono";
import { DashboardPage } from "../../../ui/pages/dashboard";
import { dashboardData } from "./data/dashboard-data";
import { page } from "./render";
import type { UiEnv } from "./ui-env";

export const dashboardRoutes = new Hono<UiEnv>();

dashboardRoutes.get("/", async (c) => {
  const data = await dashboardData(c.env, c.var.session.tenantId);
  return page(
    c,
    { title: "Dashboard", active: "dashboard" },
    <DashboardPage data={data} tenantName={c.var.session.tenantName} />,
  );
});
