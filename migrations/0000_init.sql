CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`last_used_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_hash` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `attempts` (
	`transfer_id` text NOT NULL,
	`step_index` integer NOT NULL,
	`attempt` integer NOT NULL,
	`tenant_id` text NOT NULL,
	`outcome` text NOT NULL,
	`error_class` text,
	`latency_ms` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`transfer_id`, `step_index`, `attempt`)
);
--> statement-breakpoint
CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`connector` text NOT NULL,
	`name` text NOT NULL,
	`settings` text NOT NULL,
	`credentials` text NOT NULL,
	`webhook_secret` text,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `connections_tenant` ON `connections` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`transfer_id` text,
	`tenant_id` text,
	`body` text NOT NULL,
	`reason` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `flows` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`source_connection_id` text NOT NULL,
	`trigger_stage` text NOT NULL,
	`steps` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`source_connection_id`) REFERENCES `connections`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `flows_trigger` ON `flows` (`source_connection_id`,`trigger_stage`);--> statement-breakpoint
CREATE INDEX `flows_tenant` ON `flows` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `ledger_customers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`connection_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`match_key` text NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`country` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_customers_match` ON `ledger_customers` (`connection_id`,`match_key`);--> statement-breakpoint
CREATE TABLE `ledger_invoices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`connection_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`reference` text NOT NULL,
	`customer_id` integer NOT NULL,
	`order_number` text,
	`state` text NOT NULL,
	`currency` text NOT NULL,
	`lines` text NOT NULL,
	`net` integer NOT NULL,
	`vat` integer NOT NULL,
	`total` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_invoices_reference` ON `ledger_invoices` (`connection_id`,`reference`);--> statement-breakpoint
CREATE INDEX `ledger_invoices_tenant` ON `ledger_invoices` (`tenant_id`,`id`);--> statement-breakpoint
CREATE TABLE `snapshots` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`transfer_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`step_index` integer,
	`attempt` integer,
	`kind` text NOT NULL,
	`body` text,
	`blob_key` text,
	`size` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `snapshots_transfer` ON `snapshots` (`transfer_id`,`id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `transfer_steps` (
	`transfer_id` text NOT NULL,
	`step_index` integer NOT NULL,
	`tenant_id` text NOT NULL,
	`target_connection_id` text NOT NULL,
	`action` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`external_id` text,
	`created` integer,
	`output` text,
	`error_reason` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`transfer_id`, `step_index`)
);
--> statement-breakpoint
CREATE TABLE `transfers` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`flow_id` text NOT NULL,
	`source_connection_id` text NOT NULL,
	`order_id` text NOT NULL,
	`order_number` text,
	`stage` text NOT NULL,
	`occurrence` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`step_count` integer NOT NULL,
	`steps_done` integer DEFAULT 0 NOT NULL,
	`error_reason` text,
	`error_class` text,
	`customer_email` text,
	`customer_name` text,
	`total` integer,
	`currency` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE INDEX `transfers_tenant_time` ON `transfers` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `transfers_tenant_status` ON `transfers` (`tenant_id`,`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `transfers_tenant_order` ON `transfers` (`tenant_id`,`order_id`);--> statement-breakpoint
CREATE INDEX `transfers_status_updated` ON `transfers` (`status`,`updated_at`);