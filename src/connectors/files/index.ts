/**
 * Files: a target that writes an order as a file (a pick list, or its lines with prices and VAT; CSV
 * or XML) into Orderly's R2 bucket, where a warehouse or 3PL fetches it (Files page, /api/v1/files).
 * No credentials: nothing outside is called; the files are read with the tenant's own sign-in or token.
 */
import { z } from "zod";
import type { Connector } from "../contract";
import { exportFile } from "./files.export";
import { filesConnectionSettings } from "./files.settings";

const credentials = z.object({});

export const filesConnector: Connector<typeof filesConnectionSettings, typeof credentials> = {
  id: "files",
  name: "Files (CSV / XML export)",
  category: "files",
  settings: filesConnectionSettings,
  credentials,
  actions: { exportFile },
};
