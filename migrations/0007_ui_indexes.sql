CREATE INDEX `transfers_tenant_status_time` ON `transfers` (`tenant_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `transfers_tenant_number` ON `transfers` (`tenant_id`,`order_number`);--> statement-breakpoint
CREATE INDEX `transfers_tenant_email` ON `transfers` (`tenant_id`,`customer_email`);