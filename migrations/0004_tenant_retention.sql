ALTER TABLE `tenants` ADD `retention_days` integer DEFAULT 90 NOT NULL;--> statement-breakpoint
CREATE INDEX `attempts_tenant_time` ON `attempts` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `dead_letters_tenant_time` ON `dead_letters` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `snapshots_tenant_time` ON `snapshots` (`tenant_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `transfer_steps_tenant_time` ON `transfer_steps` (`tenant_id`,`updated_at`);--> statement-breakpoint
CREATE INDEX `transfers_tenant_updated` ON `transfers` (`tenant_id`,`updated_at`);