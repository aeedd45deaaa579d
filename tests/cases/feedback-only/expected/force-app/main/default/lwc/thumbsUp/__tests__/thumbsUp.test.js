import { createElement } from 'lwc';
import ThumbsUp from 'c/thumbsUp';
import submit from '@salesforce/apex/ThumbsUpController.submit';

// Imperative Apex calls become Jest mock functions: no org and no Apex class are needed.
jest.mock('@salesforce/apex/ThumbsUpController.submit', () => ({ default: jest.fn() }), { virtual: true });

// What the controller receives for the values fillInputs enters.
const EXPECTED_INPUTS = {
    generationId: 'Sample Generation ID',
    rating: 'GOOD',
    comment: 'Sample Comment'
};

function render(properties = {}) {
    const element = createElement('c-thumbs-up', { is: ThumbsUp });
    Object.assign(element, properties);
    document.body.appendChild(element);
    return element;
}

function control(element, name) {
    const controls = element.shadowRoot.querySelectorAll('lightning-input, lightning-textarea, lightning-radio-group');
    return [...controls].find((found) => found.name === name);
}

function enter(element, name, property, value) {
    const target = control(element, name);
    target[property] = value;
    target.dispatchEvent(new CustomEvent('change'));
}

function button(element, label) {
    return [...element.shadowRoot.querySelectorAll('lightning-button')].find((found) => found.label === label);
}

function shown(element, selector) {
    return element.shadowRoot.querySelector(selector);
}

function fillInputs(element) {
    enter(element, 'generationId', 'value', 'Sample Generation ID');
    enter(element, 'rating', 'value', 'GOOD');
    enter(element, 'comment', 'value', 'Sample Comment');
}

// Lets the mocked Apex promises settle and the component render again.
function flushPromises() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

async function send(element) {
    fillInputs(element);
    await flushPromises();
    button(element, 'Send Feedback').click();
    await flushPromises();
}

describe('c-thumbs-up', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.resetAllMocks();
    });

    it('shows a labelled control for each input and a live region for the answer', () => {
        const element = render();

        expect(shown(element, 'lightning-card').title).toBe('Rate the Answer');
        expect(control(element, 'generationId').label).toBe('Generation ID');
        expect(control(element, 'generationId').required).toBe(true);
        expect(control(element, 'rating').label).toBe('Rating');
        expect(control(element, 'rating').required).toBe(true);
        expect(control(element, 'comment').label).toBe('Comment');
        expect(shown(element, '[aria-live="polite"]')).not.toBeNull();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('waits for the required inputs before it can send', async () => {
        const element = render();

        expect(button(element, 'Send Feedback').disabled).toBe(true);
        fillInputs(element);
        await flushPromises();
        expect(button(element, 'Send Feedback').disabled).toBe(false);
    });

    it('shows a spinner while it waits for the controller', async () => {
        let finish;
        submit.mockReturnValue(new Promise((resolve) => {
            finish = resolve;
        }));
        const element = render();

        await send(element);
        expect(shown(element, 'lightning-spinner')).not.toBeNull();
        finish('Feedback received');
        await flushPromises();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('sends the generation id, rating and comment and shows the confirmation', async () => {
        submit.mockResolvedValue('Feedback received');
        const element = render();

        await send(element);

        expect(submit).toHaveBeenCalledWith(EXPECTED_INPUTS);
        expect(shown(element, '.confirmation').textContent).toBe('Feedback received');
        expect(shown(element, '.error')).toBeNull();
    });

    it('shows the message of a failed call', async () => {
        submit.mockRejectedValue({ body: { message: 'The Models API is not available.' } });
        const element = render();

        await send(element);

        expect(shown(element, '.error').textContent).toBe('The Models API is not available.');
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('refuses Generation ID over 255 characters with a message, before any call', async () => {
        const element = render();
        fillInputs(element);
        enter(element, 'generationId', 'value', 'x'.repeat(256));
        await flushPromises();

        button(element, 'Send Feedback').click();
        await flushPromises();

        expect(submit).not.toHaveBeenCalled();
        expect(shown(element, '.error').textContent).toBe('Generation ID is too long: at most 255 characters');
        expect(control(element, 'generationId').maxLength).toBe('255');
    });
});
