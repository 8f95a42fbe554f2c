CREATE TABLE `reconcile_state` (
	`connection_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`checkpoint` integer,
	`cursor` text,
	`next_run_at` integer DEFAULT 0 NOT NULL,
	`last_run_at` integer,
	`last_outcome` text,
	`last_looked` integer DEFAULT 0 NOT NULL,
	`last_new` integer DEFAULT 0 NOT NULL,
	`last_new_orders` text DEFAULT '[]' NOT NULL,
	`last_kept` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`last_error_code` text,
	`last_error_at` integer,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reconcile_state_tenant` ON `reconcile_state` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `reconcile_state_due` ON `reconcile_state` (`next_run_at`);