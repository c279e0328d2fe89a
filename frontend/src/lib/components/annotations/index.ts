/**
 * The annotation layer, loaded with the reader (a dynamic import): perfect-freehand, the store
 * and the components stay out of the sitting view's first load (docs/WEBAPP.md, "The tests",
 * the JavaScript budget).
 */
export { default as InkLayer } from './InkLayer.svelte';
export { default as Toolbar } from './Toolbar.svelte';
export { default as AnnotationsPanel } from './AnnotationsPanel.svelte';
export { default as NoteEditor } from './NoteEditor.svelte';
export { default as AnnotationOptions } from './AnnotationOptions.svelte';
export { createAnnotations } from '$lib/annotations/view.svelte';
