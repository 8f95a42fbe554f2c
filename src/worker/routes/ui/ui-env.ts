/** Context of a UI request: the signed-in person, the tenant they work in, and their role there. */
import type { Role } from "../../../db/schema";

export interface Membership {
  tenantId: string;
  tenantName: string;
  role: Role;
}

export interface UiSession {
  idHash: string;
  userId: string;
  email: string;
  name: string;
  csrfToken: string;
  tenantId: string;
  tenantName: string;
  role: Role;
  memberships: Membership[];
  /**
   * Local development (DEV_SEED_TOKEN set) or a tenant without a mail connection: its emails stop
   * in the outbox (the "Dev outbox"). Otherwise the same page lists what the provider was given
   * ("Emails"), so a failed alert or invoice e-mail can be seen without the API.
   */
  devOutbox: boolean;
  /** The tenant has no alert address: every alert and report stops in the outbox, so each page says so. */
  noAlertRecipients: boolean;
}

export interface UiEnv {
  Bindings: Env;
  Variables: { session: UiSession };
}

/** Owners and admins change settings; viewers only read. */
export function canEdit(role: Role): boolean {
  return role === "owner" || role === "admin";
}

/** What the acting person may grant: only owners make or change owners. */
export function mayGrant(actor: Role, role: string): role is Role {
  return role === "viewer" || role === "admin" || (role === "owner" && actor === "owner");
}
