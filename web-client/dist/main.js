"use strict";
// The AISHA web client: one more client of the GraphQL API (queries and mutations over HTTP,
// generation progress over the graphql-transport-ws WebSocket). Opened from Telegram as a Mini
// App it signs in with Telegram's initData; elsewhere with a pasted token.
const $ = (id) => {
    const element = document.getElementById(id);
    if (!element)
        throw new Error(`#${id} is missing`);
    return element;
};
let token = new URLSearchParams(location.search).get('token') ?? localStorage.getItem('aisha-token') ?? '';
let models = [];
let cursor = null;
class ApiError extends Error {
    constructor(message, code) {
        super(message);
        this.code = code;
    }
}
async function gql(query, variables = {}) {
    const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors?.length)
        throw new ApiError(body.errors[0].message, body.errors[0].extensions?.code ?? 'INTERNAL');
    return body.data;
}
/** Follows one subscription until it completes. */
function subscribe(query, variables, onData) {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`, 'graphql-transport-ws');
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === 'connection_ack')
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        else if (message.type === 'ping')
            socket.send(JSON.stringify({ type: 'pong' }));
        else if (message.type === 'next' && message.payload.data)
            onData(message.payload.data);
        else if (message.type === 'complete' || message.type === 'error')
            socket.close();
    };
}
async function signIn() {
    const telegram = window.Telegram?.WebApp;
    if (!token && telegram?.initData) {
        const data = await gql('mutation($d: String!) { signInWithTelegram(initData: $d) { token } }', { d: telegram.initData });
        token = data.signInWithTelegram.token;
    }
    if (!token)
        return showSignIn('');
    try {
        await refreshBalance();
    }
    catch (error) {
        return showSignIn(error instanceof ApiError && error.code === 'UNAUTHENTICATED' ? 'That token is not valid.' : String(error));
    }
    localStorage.setItem('aisha-token', token);
    $('sign-in').hidden = true;
    $('studio').hidden = false;
    $('sign-out').hidden = false;
    await loadModels();
    await loadGallery(true);
}
function showSignIn(error) {
    token = '';
    localStorage.removeItem('aisha-token');
    $('sign-in').hidden = false;
    $('studio').hidden = true;
    $('sign-out').hidden = true;
    $('sign-in-error').textContent = error;
}
async function refreshBalance() {
    const data = await gql('{ me { balance } }');
    $('balance').textContent = `${data.me.balance} credits`;
}
async function loadModels() {
    const data = await gql('{ models { id name pricePerImage aspectRatios maxImages requiresAvatar } }');
    models = data.models.filter((m) => !m.requiresAvatar);
    $('model').replaceChildren(...models.map((m) => new Option(`${m.name} · ${m.pricePerImage} cr.`, m.id)));
    onModelChange();
}
function onModelChange() {
    const model = models.find((m) => m.id === $('model').value);
    if (!model)
        return;
    $('ratio').replaceChildren(...model.aspectRatios.map((r) => new Option(r, r)));
    const counts = Array.from({ length: model.maxImages }, (_, i) => i + 1);
    $('count').replaceChildren(...counts.map((n) => new Option(`${n} image${n > 1 ? 's' : ''}`, String(n))));
    onCountChange();
}
function onCountChange() {
    const model = models.find((m) => m.id === $('model').value);
    const count = Number($('count').value);
    if (model)
        $('create-button').textContent = `Create for ${model.pricePerImage * count}`;
}
async function create(event) {
    event.preventDefault();
    $('create-error').textContent = '';
    const input = {
        model: $('model').value,
        prompt: $('prompt').value,
        aspectRatio: $('ratio').value,
        numImages: Number($('count').value),
        idempotencyKey: crypto.randomUUID(),
    };
    try {
        const data = await gql('mutation($i: CreateGenerationInput!) { createGeneration(input: $i) { id } }', { i: input });
        follow(data.createGeneration.id, input.prompt);
        await refreshBalance();
    }
    catch (error) {
        $('create-error').textContent = error instanceof Error ? error.message : String(error);
    }
}
/** A line per running generation, with its progress, until it ends. */
function follow(id, prompt) {
    const line = document.createElement('li');
    const bar = document.createElement('progress');
    bar.max = 100;
    const label = document.createElement('span');
    line.append(bar, ' ', label);
    $('jobs').prepend(line);
    subscribe('subscription($id: ID!) { generationUpdated(id: $id) { status progress error } }', { id }, async (data) => {
        const generation = data.generationUpdated;
        bar.value = generation.progress;
        label.textContent = ` ${generation.status.toLowerCase()} — ${prompt}${generation.error ? `: ${generation.error}` : ''}`;
        if (generation.status === 'COMPLETED') {
            line.remove();
            await loadGallery(true);
        }
        else if (generation.status === 'FAILED' || generation.status === 'CANCELLED') {
            await refreshBalance();
        }
    });
}
function filter() {
    const type = $('filter-type').value;
    const search = $('filter-search').value.trim();
    return {
        types: type ? [type] : [],
        favoritesOnly: $('filter-favorites').checked,
        ...(search ? { promptContains: search } : {}),
    };
}
async function loadGallery(fresh) {
    if (fresh)
        cursor = null;
    const data = await gql(`query($f: GalleryFilter, $after: String) { gallery(filter: $f, first: 24, after: $after) {
       totalCount pageInfo { hasNextPage endCursor } edges { node { id url prompt type favorite } } } }`, { f: filter(), after: cursor });
    const cards = data.gallery.edges.map((edge) => card(edge.node));
    if (fresh)
        $('gallery').replaceChildren(...cards);
    else
        $('gallery').append(...cards);
    cursor = data.gallery.pageInfo.endCursor;
    $('more').hidden = !data.gallery.pageInfo.hasNextPage;
    $('total').textContent = `(${data.gallery.totalCount})`;
}
function card(image) {
    const figure = document.createElement('figure');
    const picture = document.createElement('img');
    picture.src = image.url;
    picture.alt = image.prompt;
    picture.loading = 'lazy';
    const caption = document.createElement('figcaption');
    const text = document.createElement('span');
    text.textContent = image.prompt;
    text.title = `${image.type}: ${image.prompt}`;
    const heart = button(image.favorite ? '❤️' : '🤍', async () => {
        const data = await gql('mutation($id: ID!, $f: Boolean!) { setFavorite(imageId: $id, favorite: $f) { favorite } }', { id: image.id, f: !image.favorite });
        image.favorite = data.setFavorite.favorite;
        heart.textContent = image.favorite ? '❤️' : '🤍';
    });
    const bin = button('🗑', async () => {
        if (!confirm('Delete this picture for good?'))
            return;
        await gql('mutation($id: ID!) { deleteImage(id: $id) }', { id: image.id });
        figure.remove();
        await loadGallery(true);
    });
    caption.append(text, heart, bin);
    figure.append(picture, caption);
    return figure;
}
function button(label, onClick) {
    const element = document.createElement('button');
    element.type = 'button';
    element.className = 'plain';
    element.textContent = label;
    element.onclick = () => onClick().catch((error) => alert(error instanceof Error ? error.message : String(error)));
    return element;
}
$('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    void signIn();
});
$('sign-out').addEventListener('click', () => showSignIn(''));
$('create').addEventListener('submit', (event) => void create(event));
$('model').addEventListener('change', onModelChange);
$('count').addEventListener('change', onCountChange);
$('more').addEventListener('click', () => void loadGallery(false));
for (const id of ['filter-type', 'filter-favorites'])
    $(id).addEventListener('change', () => void loadGallery(true));
let searchTimer = 0;
$('filter-search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => void loadGallery(true), 300);
});
void signIn();
