import { createElement } from 'lwc';
import Nearby from 'c/nearby';
import compare from '@salesforce/apex/NearbyController.compare';

// Imperative Apex calls become Jest mock functions: no org and no Apex class are needed.
jest.mock('@salesforce/apex/NearbyController.compare', () => ({ default: jest.fn() }), { virtual: true });

// What the controller receives for the values fillInputs enters.
const EXPECTED_INPUTS = {
    first: 'Sample First Text',
    second: 'Sample Second Text'
};

function render(properties = {}) {
    const element = createElement('c-nearby', { is: Nearby });
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
    enter(element, 'first', 'value', 'Sample First Text');
    enter(element, 'second', 'value', 'Sample Second Text');
}

// Lets the mocked Apex promises settle and the component render again.
function flushPromises() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

async function send(element) {
    fillInputs(element);
    await flushPromises();
    button(element, 'Compare').click();
    await flushPromises();
}

describe('c-nearby', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.resetAllMocks();
    });

    it('shows a labelled control for each input and a live region for the answer', () => {
        const element = render();

        expect(shown(element, 'lightning-card').title).toBe('Nearby');
        expect(control(element, 'first').label).toBe('First Text');
        expect(control(element, 'first').required).toBe(true);
        expect(control(element, 'second').label).toBe('Second Text');
        expect(control(element, 'second').required).toBe(true);
        expect(shown(element, '[aria-live="polite"]')).not.toBeNull();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('waits for the required inputs before it can send', async () => {
        const element = render();

        expect(button(element, 'Compare').disabled).toBe(true);
        fillInputs(element);
        await flushPromises();
        expect(button(element, 'Compare').disabled).toBe(false);
    });

    it('shows a spinner while it waits for the controller', async () => {
        let finish;
        compare.mockReturnValue(new Promise((resolve) => {
            finish = resolve;
        }));
        const element = render();

        await send(element);
        expect(shown(element, 'lightning-spinner')).not.toBeNull();
        finish(0.87);
        await flushPromises();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('sends both texts and shows the cosine similarity', async () => {
        compare.mockResolvedValue(0.87);
        const element = render();

        await send(element);

        expect(compare).toHaveBeenCalledWith(EXPECTED_INPUTS);
        expect(shown(element, '.similarity').value).toBe(0.87);
        expect(shown(element, '.error')).toBeNull();
    });

    it('shows the message of a failed call', async () => {
        compare.mockRejectedValue({ body: { message: 'The Models API is not available.' } });
        const element = render();

        await send(element);

        expect(shown(element, '.error').textContent).toBe('The Models API is not available.');
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('refuses First Text over 4000 characters with a message, before any call', async () => {
        const element = render();
        fillInputs(element);
        enter(element, 'first', 'value', 'x'.repeat(4001));
        await flushPromises();

        button(element, 'Compare').click();
        await flushPromises();

        expect(compare).not.toHaveBeenCalled();
        expect(shown(element, '.error').textContent).toBe('First Text is too long: at most 4000 characters');
        expect(control(element, 'first').maxLength).toBe('4000');
    });
});
