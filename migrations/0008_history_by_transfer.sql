DROP INDEX `attempts_tenant_time`;--> statement-breakpoint
DROP INDEX `snapshots_tenant_time`;--> statement-breakpoint
DROP INDEX `transfers_tenant_status`;