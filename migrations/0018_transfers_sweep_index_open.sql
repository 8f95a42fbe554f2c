-- Like 0017 for the cron's index: the stuck-transfer and failure sweeps read only unfinished and failed transfers, so the (status, updated_at) index leaves completed ones out, a D1 row fewer per transfer. The difference sweep, which looks for completed transfers, reads each tenant's transfers_tenant_updated instead (src/notifications/difference-alerts.ts). Apply after deploying the Worker that reads it so.
DROP INDEX `transfers_status_updated`;--> statement-breakpoint
CREATE INDEX `transfers_status_updated` ON `transfers` (`status`,`updated_at`) WHERE status <> 'completed';
