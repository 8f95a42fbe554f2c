/**
 * What registerPayment steps of the order's other flows entered against the same booked invoice: an
 * invoice a second flow adopted (economic.earlier-invoice.ts) is paid by whichever flow's step runs
 * first. Each step finds its own voucher by its own reference only, and an entry in a journal not
 * yet booked leaves the invoice's remainder as it was, so without this a second flow's step would
 * enter the whole payment again.
 */
import { z } from "zod";
import { toDecimalString, toMinor } from "../../domain/money";
import { asInt, type StepsContext } from "./economic.history";

const entered = z.object({
  amount: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .optional(),
  currency: z.string().optional(),
  voucher: z.string().optional(),
});

export interface OtherFlowsPayments {
  /** Minor units of the invoice's currency, at most `whole` (the invoice's gross). */
  minor: number;
  from: Array<{ transferId: string; stage: string; stepIndex: number; voucher?: string; amount: string }>;
}

/**
 * The other flows' entries on `invoiceNumber`, per their step results. A result that names its
 * voucher but not the amount (a re-run that found it) or gives it in another currency counts as the
 * whole invoice: the step entered this order's payment, and entering it again is what must not happen.
 */
export function paidByOtherFlows(ctx: StepsContext, invoiceNumber: number, currency: string, whole: number): OtherFlowsPayments {
  const from: OtherFlowsPayments["from"] = [];
  let minor = 0;
  for (const h of ctx.history) {
    if (h.target !== ctx.connection.id || h.action !== "registerPayment") continue;
    if (asInt(h.result.outputs.bookedInvoiceNumber) !== invoiceNumber) continue;
    const read = entered.safeParse(h.result.outputs);
    if (!read.success || (read.data.amount === undefined && read.data.voucher === undefined)) continue;
    const { amount, voucher } = read.data;
    const known = amount !== undefined && read.data.currency === currency ? toMinor(amount, currency) : undefined;
    const counted = known ?? whole;
    minor += counted;
    from.push({
      transferId: h.transferId,
      stage: h.stage,
      stepIndex: h.stepIndex,
      ...(voucher ? { voucher } : {}),
      amount: toDecimalString(counted, currency),
    });
  }
  return { minor: Math.min(minor, whole), from };
}
