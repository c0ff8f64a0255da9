import {
  DEFAULT_SCORING_CONFIG,
  type ScoringInputs,
  type ScoringNeighbour,
} from '../../../../api/scoring/index.ts';
import type { ClusterProfile, UserProfile } from '../../../../schemas/index.ts';
import { DEFAULT_VOCABULARY } from '../../../../schemas/index.ts';
import { emptyProfile } from '../../../../streams/reducers/evolve-profile.ts';

/** A profile with `selected`/`accepted` per option key and optional per-option mean contexts. */
export function profileWith(
  options: Record<string, [selected: number, accepted: number]>,
  embeddings: Record<string, number[]> = {},
  version = 7,
): UserProfile {
  const p = emptyProfile('u1');
  for (const [key, [selected, accepted]] of Object.entries(options)) {
    p.options[key] = { selected, accepted };
    p.sessions += selected;
  }
  for (const [key, vector] of Object.entries(embeddings)) {
    p.option_embeddings[key] = { n: p.options[key]?.selected ?? 1, vector };
  }
  p.version = version;
  return p;
}

export function clusterWith(
  clusterId: number,
  distribution: Record<string, number>,
  size = 20,
): ClusterProfile {
  const top = Object.entries(distribution).sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  return {
    cluster_id: clusterId,
    version: 1,
    ts: '2026-01-01T00:00:00.000Z',
    size,
    centroid: [],
    option_distribution: distribution,
    top_option: top,
  };
}

export function nb(option_key: string | null, score: number, language = 'en'): ScoringNeighbour {
  return { score, payload: { option_key, language } };
}

/** Inputs with no evidence at all; a draw above the default ε, so the ranking is greedy. */
export function inputs(over: Partial<ScoringInputs> = {}): ScoringInputs {
  return {
    vocabulary: DEFAULT_VOCABULARY,
    language: 'en',
    neighbours: [],
    doc: null,
    profile: null,
    embedding: null,
    cluster: null,
    config: DEFAULT_SCORING_CONFIG,
    draw: 0.5,
    ...over,
  };
}
