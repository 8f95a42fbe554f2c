CREATE TABLE `ledger_payments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`connection_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`reference` text NOT NULL,
	`invoice_id` integer NOT NULL,
	`amount` integer NOT NULL,
	`method` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_payments_reference` ON `ledger_payments` (`connection_id`,`reference`);--> statement-breakpoint
ALTER TABLE `ledger_invoices` ADD `type` text DEFAULT 'invoice' NOT NULL;--> statement-breakpoint
ALTER TABLE `ledger_invoices` ADD `credited_invoice_id` integer;--> statement-breakpoint
ALTER TABLE `ledger_invoices` ADD `vat_case` text;--> statement-breakpoint
ALTER TABLE `ledger_invoices` ADD `paid` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `ledger_invoices` ADD `updated_at` integer;