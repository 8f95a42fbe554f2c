CREATE TABLE `mail_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`provider` text NOT NULL,
	`provider_id` text,
	`idempotency_key` text NOT NULL,
	`from_address` text NOT NULL,
	`to_addresses` text NOT NULL,
	`subject` text NOT NULL,
	`text` text,
	`html` text,
	`attachments` text,
	`status` text NOT NULL,
	`error` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mail_outbox_idempotency` ON `mail_outbox` (`tenant_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `mail_outbox_tenant_time` ON `mail_outbox` (`tenant_id`,`created_at`);