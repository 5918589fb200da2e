// The cost-tracking tag set. Defined once: the Pulumi program stamps it on every
// taggable resource, and haumana-ops checks and activates exactly these keys and
// filters the budget on the Project tag.

export const PROJECT_NAME = "Haumana";

/** The keys in the order they are reported. */
export const TAG_KEYS = ["Project", "Environment", "CostCenter"] as const;
export type TagKey = (typeof TAG_KEYS)[number];
export type TagSet = Record<TagKey, string>;

/** The tag the budget and the cost report filter on. */
export const PROJECT_TAG = { key: "Project", value: PROJECT_NAME } as const;

export interface TagInputs {
  environment: string;
  costCenter: string;
}

export function stackTags({ environment, costCenter }: TagInputs): TagSet {
  if (!environment) throw new Error("stackTags: environment is required");
  if (!costCenter) throw new Error("stackTags: costCenter is required");
  return { Project: PROJECT_NAME, Environment: environment, CostCenter: costCenter };
}
