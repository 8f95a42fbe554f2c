ALTER TABLE `connections` ADD `paused_until` integer;--> statement-breakpoint
ALTER TABLE `connections` ADD `pause_reason` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `alert_emails` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `mail_connection_id` text;