import { useState } from 'react';

/** What a list is narrowed to: words to find, and one tag (empty: any). */
export interface ListFilterValue {
  text: string;
  tag: string;
}

/** A filter's state, starting empty. */
export function useListFilter(): [ListFilterValue, (patch: Partial<ListFilterValue>) => void] {
  const [value, setValue] = useState<ListFilterValue>({ text: '', tag: '' });
  return [value, (patch) => setValue((v) => ({ ...v, ...patch }))];
}

/** Every tag of the items, sorted, each once. */
export function tagsOf(items: { tags: string[] }[]): string[] {
  return [...new Set(items.flatMap((i) => i.tags))].sort((a, b) => a.localeCompare(b));
}

/**
 * The items that have the tag (when one is chosen) and contain every word of the text, without case, in
 * one of the fields `searchable` gives.
 */
export function filterList<T extends { tags: string[] }>(
  items: T[],
  filter: ListFilterValue,
  searchable: (item: T) => (string | null | undefined)[],
): T[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return items.filter((item) => {
    if (filter.tag && !item.tags.includes(filter.tag)) return false;
    const haystack = [...searchable(item), ...item.tags].filter(Boolean).join('\n').toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

/** A search box and a tag choice above a list (servers, jobs). */
export function ListFilter({
  value,
  onChange,
  tags,
  placeholder,
  testIdPrefix,
  shown,
  total,
}: {
  value: ListFilterValue;
  onChange: (patch: Partial<ListFilterValue>) => void;
  tags: string[];
  placeholder: string;
  /** "servers" gives data-testid servers-search and servers-tag-filter. */
  testIdPrefix: string;
  shown: number;
  total: number;
}) {
  return (
    <div className="filters">
      <input
        type="search"
        value={value.text}
        placeholder={placeholder}
        aria-label="Search"
        onChange={(e) => onChange({ text: e.target.value })}
        data-testid={`${testIdPrefix}-search`}
      />
      <select
        value={value.tag}
        onChange={(e) => onChange({ tag: e.target.value })}
        aria-label="Tag"
        data-testid={`${testIdPrefix}-tag-filter`}
      >
        <option value="">any tag</option>
        {tags.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      {(value.text || value.tag) && (
        <>
          <span className="muted small" data-testid={`${testIdPrefix}-filter-count`}>
            {shown} of {total}
          </span>
          <button className="ghost small" onClick={() => onChange({ text: '', tag: '' })}>
            Clear
          </button>
        </>
      )}
    </div>
  );
}
