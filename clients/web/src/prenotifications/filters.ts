/** The list filters, a pure function of a pre-notification's data so it is tested without a browser. */
export interface PnFilters {
  country: string;
  etaFrom: string;
  etaTo: string;
}

/** A country (sender, transit or destination) and an ETA range (dates, ends included). */
export function matches(data: Record<string, unknown>, f: PnFilters): boolean {
  const country = f.country.trim().toUpperCase();
  const transit = Array.isArray(data.transit_countries) ? data.transit_countries.map(String) : [];
  if (country && ![String(data.sender_country ?? ""), String(data.destination_country ?? ""), ...transit].some((c) => c.toUpperCase() === country)) return false;
  const eta = (data.transport as Record<string, unknown> | undefined)?.eta;
  if (!f.etaFrom && !f.etaTo) return true;
  if (typeof eta !== "string") return false;
  const day = eta.slice(0, 10);
  return (!f.etaFrom || day >= f.etaFrom) && (!f.etaTo || day <= f.etaTo);
}
