ALTER TABLE `reconcile_state` ADD `fail_runs` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_state` ADD `page_fails` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_state` ADD `missed_total` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_state` ADD `missed_days` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `reconcile_state` ADD `on_since` integer;