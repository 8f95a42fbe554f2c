-- Orders that reached a stage while their source connection had no enabled flow at all: recorded so they can be listed (Flows page, /api/v1/unplanned-orders) and their flows run once one is switched on. Apply before deploying the Worker that writes it (an order object's plan job would otherwise retry until the table exists).
CREATE TABLE `unplanned_orders` (
	`tenant_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`order_id` text NOT NULL,
	`order_number` text,
	`stages` text DEFAULT '[]' NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	PRIMARY KEY(`connection_id`, `order_id`)
);
--> statement-breakpoint
CREATE INDEX `unplanned_orders_tenant_time` ON `unplanned_orders` (`tenant_id`,`first_seen_at`);